//! The driver against a recording executor: what runs, what is cached, what
//! runs at the same time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use strata_dockerfile::parse;
use strata_oci::{Descriptor, Digest, ImageConfig, Platform};

use super::*;
use crate::executor::{Base, CacheEntry, CopyRequest, ExecError, Layer, RunOutcome, RunRequest};
use crate::progress::Silent;

#[derive(Default)]
struct Fake {
    calls: Mutex<Vec<String>>,
    cache: Mutex<HashMap<Digest, CacheEntry>>,
    context: Mutex<String>,
    running: AtomicUsize,
    overlapped: AtomicUsize,
    fail_with: Option<i32>,
}

fn layer(seed: &str) -> Layer {
    let d = Digest::sha256_of(seed.as_bytes());
    Layer {
        diff_id: d.clone(),
        blob: Descriptor::new("application/vnd.oci.image.layer.v1.tar+gzip", d, 1),
    }
}

impl Fake {
    fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }
    fn record(&self, s: String) {
        self.calls.lock().unwrap().push(s);
    }
}

impl Executor for Fake {
    fn base(&self, name: &str, _: &Platform) -> Result<Base, ExecError> {
        if name != "busybox" {
            return Err(format!("no such image: {name}").into());
        }
        Ok(Base {
            id: Digest::sha256_of(b"busybox"),
            config: ImageConfig::default(),
            layers: vec![layer("busybox")],
        })
    }
    fn copy_digest(&self, req: &CopyRequest) -> Result<Digest, ExecError> {
        let ctx = self.context.lock().unwrap().clone();
        Ok(Digest::sha256_of(
            format!("{ctx}{:?}", req.paths).as_bytes(),
        ))
    }
    fn copy(&self, parent: &[Layer], reqs: &[CopyRequest]) -> Result<Option<Layer>, ExecError> {
        for req in reqs {
            self.record(format!("copy {:?} {}", req.paths, req.dest));
        }
        Ok(Some(layer(&format!("{parent:?}{reqs:?}"))))
    }
    fn mkdir(&self, _: &[Layer], path: &str, _: &str) -> Result<Option<Layer>, ExecError> {
        self.record(format!("mkdir {path}"));
        Ok(None)
    }
    fn run(
        &self,
        parent: &[Layer],
        req: &RunRequest,
        output: &mut dyn FnMut(&[u8]),
    ) -> Result<RunOutcome, ExecError> {
        self.record(format!(
            "run {}",
            req.args.last().cloned().unwrap_or_default()
        ));
        if req.args.last().is_some_and(|a| a.starts_with("sleep")) {
            if self.running.fetch_add(1, Ordering::SeqCst) > 0 {
                self.overlapped.fetch_add(1, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(150));
            self.running.fetch_sub(1, Ordering::SeqCst);
        }
        output(b"some output\nlast line\n");
        if let Some(code) = self.fail_with {
            return Ok(RunOutcome { code, layer: None });
        }
        Ok(RunOutcome {
            code: 0,
            layer: Some(layer(&format!("{parent:?}{req:?}"))),
        })
    }
    fn cache_get(&self, key: &Digest) -> Result<Option<CacheEntry>, ExecError> {
        Ok(self.cache.lock().unwrap().get(key).cloned())
    }
    fn cache_put(&self, key: &Digest, entry: &CacheEntry) -> Result<(), ExecError> {
        self.cache
            .lock()
            .unwrap()
            .insert(key.clone(), entry.clone());
        Ok(())
    }
    fn commit(&self, config: &ImageConfig, _: &[Layer], _: &[String]) -> Result<Digest, ExecError> {
        Ok(Digest::sha256_of(&config.to_bytes()))
    }
}

fn options(created: &str) -> BuildOptions {
    BuildOptions {
        target: None,
        build_args: BTreeMap::new(),
        labels: BTreeMap::new(),
        tags: Vec::new(),
        no_cache: false,
        platform: Platform::new("linux", "amd64", None),
        created: created.into(),
        source_date_epoch: None,
        network: crate::executor::RunNetwork::Default,
    }
}

const TWO_STAGES: &str = "FROM busybox AS builder\nWORKDIR /src\nCOPY . .\nRUN make\n\
FROM busybox\nCOPY --from=builder /src/out /usr/bin/\nCMD [\"out\"]\n";

#[test]
fn a_second_build_is_served_from_the_cache_with_the_same_image_id() {
    let fake = Fake::default();
    let df = parse(TWO_STAGES).unwrap();
    let first = build(&df, &options("2026-01-01T00:00:00Z"), &fake, &Silent).unwrap();
    let ran = fake.calls().len();
    assert_eq!(ran, 4, "{:?}", fake.calls());
    let second = build(&df, &options("2026-02-02T00:00:00Z"), &fake, &Silent).unwrap();
    assert_eq!(
        fake.calls().len(),
        ran,
        "nothing runs again: {:?}",
        fake.calls()
    );
    assert_eq!(first.image_id, second.image_id);
}

#[test]
fn no_cache_runs_every_step() {
    let fake = Fake::default();
    let df = parse(TWO_STAGES).unwrap();
    build(&df, &options("t"), &fake, &Silent).unwrap();
    let mut opts = options("t");
    opts.no_cache = true;
    build(&df, &opts, &fake, &Silent).unwrap();
    assert_eq!(fake.calls().len(), 8);
}

#[test]
fn a_changed_context_reruns_from_the_copy_that_reads_it() {
    let fake = Fake::default();
    let df = parse("FROM busybox\nRUN early\nCOPY a.txt /a\nRUN late\n").unwrap();
    build(&df, &options("t"), &fake, &Silent).unwrap();
    *fake.context.lock().unwrap() = "edited".into();
    fake.calls.lock().unwrap().clear();
    build(&df, &options("t"), &fake, &Silent).unwrap();
    assert_eq!(fake.calls(), ["copy [\"a.txt\"] /a", "run late"]);
}

#[test]
fn a_build_arg_a_run_uses_changes_its_key() {
    let fake = Fake::default();
    let df = parse("FROM busybox\nARG V=1\nRUN echo $V\n").unwrap();
    build(&df, &options("t"), &fake, &Silent).unwrap();
    let mut opts = options("t");
    opts.build_args.insert("V".into(), "2".into());
    build(&df, &opts, &fake, &Silent).unwrap();
    assert_eq!(fake.calls().len(), 2);
}

#[test]
fn stages_the_target_does_not_need_never_run() {
    let fake = Fake::default();
    let df = parse("FROM busybox AS broken\nRUN exit 1\nFROM busybox\nRUN ok\n").unwrap();
    build(&df, &options("t"), &fake, &Silent).unwrap();
    assert_eq!(fake.calls(), ["run ok"]);
}

#[test]
fn independent_stages_run_at_the_same_time() {
    let fake = Fake::default();
    let df = parse(
        "FROM busybox AS a\nRUN sleep a\nFROM busybox AS b\nRUN sleep b\n\
FROM busybox\nCOPY --from=a /x /a\nCOPY --from=b /x /b\n",
    )
    .unwrap();
    build(&df, &options("t"), &fake, &Silent).unwrap();
    assert_eq!(
        fake.overlapped.load(Ordering::SeqCst),
        1,
        "{:?}",
        fake.calls()
    );
}

#[test]
fn a_failed_run_reports_its_exit_code_line_and_output() {
    let fake = Fake {
        fail_with: Some(3),
        ..Fake::default()
    };
    let df = parse("FROM busybox\n\nRUN false\n").unwrap();
    let e = build(&df, &options("t"), &fake, &Silent).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("line 3") && msg.contains("exit code 3") && msg.contains("last line"),
        "{msg}"
    );
    assert_eq!(e.kind(), crate::ErrorKind::StepFailed);
}

#[test]
fn metadata_instructions_shape_the_config_without_layers() {
    let fake = Fake::default();
    let df = parse(
        "FROM busybox\nENV A=1 B=\"two words\"\nLABEL l=v\nEXPOSE 80\nUSER 1000\nWORKDIR /w\n\
VOLUME /data\nSTOPSIGNAL SIGTERM\nENTRYPOINT [\"/bin/sh\"]\nCMD [\"-c\", \"echo $A\"]\n",
    )
    .unwrap();
    let r = build(&df, &options("t"), &fake, &Silent).unwrap();
    let c = r.config.config.clone().unwrap();
    assert_eq!(
        c.env.unwrap()[1..],
        ["A=1".to_owned(), "B=two words".to_owned()]
    );
    assert_eq!(c.user.as_deref(), Some("1000"));
    assert_eq!(c.working_dir.as_deref(), Some("/w"));
    assert_eq!(c.entrypoint.unwrap(), ["/bin/sh"]);
    assert_eq!(c.cmd.unwrap(), ["-c", "echo $A"]);
    assert_eq!(c.stop_signal.as_deref(), Some("SIGTERM"));
    assert!(c.volumes.unwrap().contains_key("/data"));
    assert_eq!(r.layers.len(), 1, "only the base layer");
    let history = r.config.history.unwrap();
    assert!(history.iter().all(|h| h.empty_layer));
}

#[test]
fn unused_build_args_are_reported() {
    let fake = Fake::default();
    let df = parse("FROM busybox\nARG USED\n").unwrap();
    let mut opts = options("t");
    opts.build_args.insert("USED".into(), "1".into());
    opts.build_args.insert("NOPE".into(), "1".into());
    opts.build_args.insert("HTTP_PROXY".into(), "x".into());
    let r = build(&df, &opts, &fake, &Silent).unwrap();
    assert_eq!(r.unused_args, ["NOPE"]);
}

#[test]
fn from_platform_must_be_the_one_built() {
    let fake = Fake::default();
    let ok = parse("FROM --platform=$BUILDPLATFORM busybox\nRUN ok\n").unwrap();
    let mut opts = options("t");
    opts.platform = Platform::host();
    build(&ok, &opts, &fake, &Silent).unwrap();
    let other = if Platform::host().architecture == "arm64" {
        "linux/amd64"
    } else {
        "linux/arm64"
    };
    let bad = parse(&format!("FROM --platform={other} busybox\n")).unwrap();
    let e = build(&bad, &opts, &fake, &Silent).unwrap_err();
    assert!(e.to_string().contains("no emulation"), "{e}");
    assert_eq!(e.kind(), crate::ErrorKind::Unsupported);
}

#[test]
fn an_onbuild_trigger_naming_an_unbuilt_stage_fails_instead_of_hanging() {
    let fake = Fake::default();
    let parent = ImageConfig {
        config: Some(strata_oci::ContainerConfig {
            on_build: Some(vec!["COPY --from=unused /x /x".into()]),
            ..Default::default()
        }),
        ..ImageConfig::default()
    };
    struct WithTrigger(Fake, ImageConfig);
    impl Executor for WithTrigger {
        fn base(&self, _: &str, _: &Platform) -> Result<Base, ExecError> {
            Ok(Base {
                id: Digest::sha256_of(b"parent"),
                config: self.1.clone(),
                layers: vec![layer("parent")],
            })
        }
        fn copy_digest(&self, r: &CopyRequest) -> Result<Digest, ExecError> {
            self.0.copy_digest(r)
        }
        fn copy(&self, p: &[Layer], r: &[CopyRequest]) -> Result<Option<Layer>, ExecError> {
            self.0.copy(p, r)
        }
        fn mkdir(&self, p: &[Layer], d: &str, u: &str) -> Result<Option<Layer>, ExecError> {
            self.0.mkdir(p, d, u)
        }
        fn run(
            &self,
            p: &[Layer],
            r: &RunRequest,
            o: &mut dyn FnMut(&[u8]),
        ) -> Result<RunOutcome, ExecError> {
            self.0.run(p, r, o)
        }
        fn cache_get(&self, k: &Digest) -> Result<Option<CacheEntry>, ExecError> {
            self.0.cache_get(k)
        }
        fn cache_put(&self, k: &Digest, e: &CacheEntry) -> Result<(), ExecError> {
            self.0.cache_put(k, e)
        }
        fn commit(&self, c: &ImageConfig, l: &[Layer], t: &[String]) -> Result<Digest, ExecError> {
            self.0.commit(c, l, t)
        }
    }
    let exec = WithTrigger(fake, parent);
    let df = parse("FROM busybox AS unused\nRUN x\nFROM parent\n").unwrap();
    let e = build(&df, &options("t"), &exec, &Silent).unwrap_err();
    assert!(e.to_string().contains("not part of this build"), "{e}");
}
