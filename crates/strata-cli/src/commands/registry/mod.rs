//! `pull`, `push`, `login`, `logout`, `search` and `manifest inspect`.

mod progress;

use std::io::{self, BufRead, IsTerminal, Read, Write};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;
use strata_distribution::{ManifestRef, RepositoryName};
use strata_host::registry::{
    NoProgress, PullOptions, PushOptions, RegistryOptions, TransferProgress,
};
use strata_host::Host;
use strata_oci::{Platform, Reference};
use strata_registry_client::Credential;

use self::progress::{Direction, LayerProgress};
use super::util::print;
use crate::cli::{
    LoginArgs, LogoutArgs, ManifestInspectArgs, PullArgs, PushArgs, SearchArgs, TlsArgs,
};
use crate::render::Format;

fn options(tls: &TlsArgs) -> Result<RegistryOptions> {
    let mut opts = RegistryOptions::from_env()?;
    opts.tls_verify = tls.tls_verify;
    Ok(opts)
}

fn parse_reference(s: &str) -> Result<Reference> {
    Reference::parse_normalized(s).map_err(|e| anyhow!("{e}"))
}

fn progress_for(direction: Direction, quiet: bool) -> Box<dyn ProgressOut> {
    if quiet {
        Box::new(NoProgress)
    } else {
        Box::new(LayerProgress::new(direction, io::stdout().is_terminal()))
    }
}

/// Progress that can draw its last state.
trait ProgressOut: TransferProgress {
    fn finish(&self) {}
}

impl ProgressOut for NoProgress {}

impl ProgressOut for LayerProgress {
    fn finish(&self) {
        LayerProgress::finish(self);
    }
}

/// `pull`.
pub fn pull(host: &Host, args: &PullArgs) -> Result<ExitCode> {
    let reference = parse_reference(&args.reference)?;
    let platform = args
        .platform
        .as_deref()
        .map(|p| {
            p.parse::<Platform>()
                .map_err(|e| anyhow!("--platform: {e}"))
        })
        .transpose()?;
    let opts = PullOptions {
        platform,
        all_platforms: args.all_platforms,
        parallel: args.max_concurrent_downloads.max(1),
        registry: options(&args.tls)?,
    };
    let shown = reference.clone().with_default_tag();
    if !args.quiet {
        if reference.tag().is_none() && reference.digest().is_none() {
            print("Using default tag: latest\n")?;
        }
        let what = shown
            .digest()
            .map(ToString::to_string)
            .or_else(|| shown.tag().map(str::to_owned))
            .unwrap_or_default();
        print(&format!(
            "{what}: Pulling from {}\n",
            shown.familiar_repository()
        ))?;
    }
    let progress = progress_for(Direction::Pull, args.quiet);
    let pulled = host.pull(&reference, &opts, progress.as_ref());
    progress.finish();
    let pulled = pulled?;
    if !args.quiet {
        if let Some(m) = &pulled.mirror {
            print(&format!("Pulled through mirror {m}\n"))?;
        }
        print(&format!("Digest: {}\n", pulled.digest))?;
        let status = if pulled.changed {
            "Downloaded newer image for"
        } else {
            "Image is up to date for"
        };
        print(&format!(
            "Status: {status} {}\n",
            pulled.reference.familiar()
        ))?;
    }
    print(&format!("{}\n", pulled.reference))?;
    Ok(ExitCode::SUCCESS)
}

/// `push`.
pub fn push(host: &Host, args: &PushArgs) -> Result<ExitCode> {
    let reference = parse_reference(&args.reference)?;
    if reference.digest().is_some() {
        bail!("{}: push a tag, not a digest", args.reference);
    }
    let opts = PushOptions {
        all_tags: args.all_tags,
        parallel: args.max_concurrent_uploads.max(1),
        registry: options(&args.tls)?,
    };
    if !args.quiet {
        print(&format!(
            "The push refers to repository [{}]\n",
            reference.without_tag_or_digest()
        ))?;
    }
    let progress = progress_for(Direction::Push, args.quiet);
    let pushed = host.push(&reference, &opts, progress.as_ref());
    progress.finish();
    for p in pushed? {
        let tag = p.reference.tag().unwrap_or("latest");
        print(&format!("{tag}: digest: {} size: {}\n", p.digest, p.size))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The registry a login/logout names; Docker Hub when none.
fn server_domain(server: Option<&str>) -> String {
    let Some(s) = server else {
        return "docker.io".to_owned();
    };
    let s = s
        .trim_start_matches("https://")
        .trim_start_matches("http://")
        .trim_end_matches('/');
    let host = s.split('/').next().unwrap_or(s);
    match host {
        "index.docker.io" | "registry-1.docker.io" => "docker.io".to_owned(),
        h => h.to_owned(),
    }
}

/// `login`.
pub fn login(args: &LoginArgs) -> Result<ExitCode> {
    let domain = server_domain(args.server.as_deref());
    let opts = options(&args.tls)?;
    if args.password.is_some() && args.password_stdin {
        bail!("--password and --password-stdin are mutually exclusive");
    }
    if args.password.is_some() {
        eprintln!("WARNING! Using --password via the CLI is insecure. Use --password-stdin.");
    }
    let stored = opts.credentials.get(&domain)?;
    let credential = match (&args.username, &args.password, args.password_stdin) {
        // No flags and a stored credential: check it, as Docker does.
        (None, None, false) if stored.is_some() => stored,
        (user, password, from_stdin) => {
            let username = match user {
                Some(u) => u.clone(),
                None if from_stdin => bail!("must provide --username with --password-stdin"),
                None => prompt(&format!("Username ({domain}): "), true)?,
            };
            let secret = match (password, from_stdin) {
                (Some(p), _) => p.clone(),
                (None, true) => {
                    let mut s = String::new();
                    io::stdin().read_to_string(&mut s)?;
                    s.trim_end_matches(['\n', '\r']).to_owned()
                }
                (None, false) => prompt("Password: ", false)?,
            };
            if username.is_empty() || secret.is_empty() {
                bail!("username and password are required");
            }
            Some(Credential { username, secret })
        }
    };
    let Some(credential) = credential else {
        bail!("username and password are required");
    };
    let client = strata_registry_client::Client::new(
        &domain,
        strata_registry_client::ClientOptions {
            tls: strata_registry_client::TlsOptions {
                verify: opts.tls_verify.unwrap_or(!opts.conf.is_insecure(&domain)),
                certs_dirs: opts.certs_dirs.clone(),
            },
            credential: Some(credential.clone()),
        },
    )?;
    client.ping()?;
    if !opts.credentials.uses_helper(&domain)? {
        eprintln!(
            "WARNING! Your password will be stored unencrypted in {}.",
            opts.credentials.path().display()
        );
    }
    opts.credentials.store(&domain, &credential)?;
    print("Login Succeeded\n")?;
    Ok(ExitCode::SUCCESS)
}

/// Reads a line from the terminal; without echo for passwords.
pub(super) fn prompt(question: &str, echo: bool) -> Result<String> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        bail!("cannot prompt: standard input is not a terminal; use --password-stdin");
    }
    eprint!("{question}");
    io::stderr().flush()?;
    let saved = if echo {
        None
    } else {
        let t = rustix::termios::tcgetattr(&stdin)?;
        let mut quiet = t.clone();
        quiet.local_modes.remove(rustix::termios::LocalModes::ECHO);
        rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &quiet)?;
        Some(t)
    };
    let mut line = String::new();
    let read = stdin.lock().read_line(&mut line);
    if let Some(t) = saved {
        let _ = rustix::termios::tcsetattr(&stdin, rustix::termios::OptionalActions::Now, &t);
        eprintln!();
    }
    read?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// `logout`.
pub fn logout(args: &LogoutArgs) -> Result<ExitCode> {
    let domain = server_domain(args.server.as_deref());
    let opts = RegistryOptions::from_env()?;
    // Docker names Docker Hub by its key, https://index.docker.io/v1/.
    let key = strata_registry_client::credentials::server_key(&domain);
    if opts.credentials.erase(&domain)? {
        print(&format!("Removing login credentials for {key}\n"))?;
    } else {
        print(&format!("Not logged in to {key}\n"))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `search REGISTRY/TERM`: the registry's catalog, filtered.
pub fn search(args: &SearchArgs) -> Result<ExitCode> {
    let (domain, term) = args
        .term
        .split_once('/')
        .filter(|(d, _)| d.contains('.') || d.contains(':') || *d == "localhost")
        .ok_or_else(|| {
            anyhow!(
                "{}: search needs REGISTRY/TERM (the registry's catalog is searched)",
                args.term
            )
        })?;
    let opts = options(&args.tls)?;
    let client = opts.client_for(domain)?;
    let mut names: Vec<String> = client
        .catalog()?
        .into_iter()
        .filter(|n| n.contains(term))
        .collect();
    names.truncate(args.limit);
    let mut rows = Vec::new();
    for n in &names {
        let tags = if args.list_tags {
            let repo = RepositoryName::new(n).map_err(|e| anyhow!("{e}"))?;
            client.tags(&repo)?.join(", ")
        } else {
            String::new()
        };
        rows.push(json!({"Name": format!("{domain}/{n}"), "Tags": tags}));
    }
    let headers = json!({"Name": "NAME", "Tags": "TAGS"});
    let default = if args.list_tags {
        "{{.Name}}\t{{.Tags}}"
    } else {
        "{{.Name}}"
    };
    let format = Format::parse(args.format.as_deref().unwrap_or(""))?.with_default_table(default);
    print(&format.render_list(&rows, &headers)?)?;
    Ok(ExitCode::SUCCESS)
}

/// `manifest inspect`.
pub fn manifest_inspect(args: &ManifestInspectArgs) -> Result<ExitCode> {
    let reference = parse_reference(&args.reference)?.with_default_tag();
    let repo = RepositoryName::new(reference.path()).map_err(|e| anyhow!("{e}"))?;
    let wanted = match (reference.digest(), reference.tag()) {
        (Some(d), _) => ManifestRef::Digest(d.clone()),
        (None, Some(t)) => ManifestRef::tag(t).map_err(|e| anyhow!("{e}"))?,
        _ => bail!("{}: no tag or digest", args.reference),
    };
    let opts = options(&args.tls)?;
    let client = opts.client_for(reference.domain())?;
    let manifest = client.get_manifest(&repo, &wanted)?;
    let doc: serde_json::Value = serde_json::from_slice(&manifest.bytes)
        .with_context(|| format!("{}: the manifest is not JSON", args.reference))?;
    let out = if args.verbose {
        json!({
            "Ref": reference.to_string(),
            "Descriptor": manifest.descriptor(),
            "Manifest": doc,
        })
    } else {
        doc
    };
    print(&format!("{}\n", serde_json::to_string_pretty(&out)?))?;
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_servers_as_docker_names_them() {
        assert_eq!(server_domain(None), "docker.io");
        assert_eq!(
            server_domain(Some("https://index.docker.io/v1/")),
            "docker.io"
        );
        assert_eq!(server_domain(Some("localhost:5000")), "localhost:5000");
        assert_eq!(
            server_domain(Some("http://reg.example:5000/")),
            "reg.example:5000"
        );
    }
}
