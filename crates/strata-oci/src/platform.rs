//! Platforms (`linux/amd64`, `linux/arm/v7`) and how they match.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// The platform an image runs on.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Platform {
    /// CPU architecture in Go's terms (`amd64`, `arm64`, `arm`).
    pub architecture: String,
    /// Operating system in Go's terms (`linux`).
    pub os: String,
    /// OS version (Windows).
    #[serde(
        rename = "os.version",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_version: Option<String>,
    /// Required OS features.
    #[serde(
        rename = "os.features",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub os_features: Option<Vec<String>>,
    /// CPU variant (`v7`, `v8`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
}

impl Platform {
    /// A platform from its parts, normalised.
    pub fn new(os: &str, architecture: &str, variant: Option<&str>) -> Self {
        Platform {
            architecture: architecture.to_owned(),
            os: os.to_owned(),
            os_version: None,
            os_features: None,
            variant: variant.map(str::to_owned),
        }
        .normalized()
    }

    /// The platform this binary was built for.
    pub fn host() -> Self {
        let arch = match std::env::consts::ARCH {
            "x86_64" => "amd64",
            "aarch64" => "arm64",
            "x86" => "386",
            "arm" => "arm",
            "powerpc64" => "ppc64le",
            "s390x" => "s390x",
            "riscv64" => "riscv64",
            other => other,
        };
        Platform::new(std::env::consts::OS, arch, None)
    }

    /// Applies containerd's normalisation: `x86_64`→`amd64`, `aarch64`→`arm64`,
    /// `arm64/v8`→`arm64`, `arm` without variant→`arm/v7`.
    pub fn normalized(mut self) -> Self {
        self.os = self.os.to_lowercase();
        let arch = self.architecture.to_lowercase();
        let (arch, variant) = match (arch.as_str(), self.variant.as_deref()) {
            ("x86_64" | "x86-64", _) | ("amd64", Some("v1")) => ("amd64".to_owned(), None),
            ("aarch64" | "arm64", Some("v8") | None) => ("arm64".to_owned(), None),
            ("aarch64", v) => ("arm64".to_owned(), v.map(str::to_owned)),
            ("armhf", _) => ("arm".to_owned(), Some("v7".to_owned())),
            ("armel", _) => ("arm".to_owned(), Some("v6".to_owned())),
            ("arm", None | Some("7")) => ("arm".to_owned(), Some("v7".to_owned())),
            ("arm", Some("5" | "6" | "8")) => {
                let v = self.variant.as_deref().unwrap_or_default();
                ("arm".to_owned(), Some(format!("v{v}")))
            }
            ("i386", _) => ("386".to_owned(), None),
            (a, v) => (a.to_owned(), v.map(str::to_owned)),
        };
        self.architecture = arch;
        self.variant = variant;
        self
    }

    /// True when an image built for `other` runs here, by exact os/arch/variant after normalisation.
    pub fn matches(&self, other: &Platform) -> bool {
        let a = self.clone().normalized();
        let b = other.clone().normalized();
        a.os == b.os
            && a.architecture == b.architecture
            && (a.variant.is_none() || b.variant.is_none() || a.variant == b.variant)
    }
}

impl fmt::Display for Platform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.os, self.architecture)?;
        if let Some(v) = &self.variant {
            write!(f, "/{v}")?;
        }
        Ok(())
    }
}

impl FromStr for Platform {
    type Err = Error;

    /// Parses `os/arch[/variant]`, or a bare `arch` (os defaults to linux).
    fn from_str(s: &str) -> Result<Self> {
        let invalid = |reason| Error::InvalidPlatform {
            input: s.to_owned(),
            reason,
        };
        let parts: Vec<&str> = s.split('/').collect();
        if parts
            .iter()
            .any(|p| p.is_empty() || !p.bytes().all(is_platform_byte))
        {
            return Err(invalid("expected os/arch[/variant]"));
        }
        match parts.as_slice() {
            [arch] => Ok(Platform::new("linux", arch, None)),
            [os, arch] => Ok(Platform::new(os, arch, None)),
            [os, arch, variant] => Ok(Platform::new(os, arch, Some(variant))),
            _ => Err(invalid("expected os/arch[/variant]")),
        }
    }
}

fn is_platform_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_normalizes_aliases() {
        let p: Platform = "linux/x86_64".parse().unwrap();
        assert_eq!(p.to_string(), "linux/amd64");
        let p: Platform = "linux/arm64/v8".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
        let p: Platform = "linux/arm".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm/v7");
        let p: Platform = "arm64".parse().unwrap();
        assert_eq!(p.to_string(), "linux/arm64");
    }

    #[test]
    fn parse_refuses_malformed_platforms() {
        for bad in ["", "linux/", "/amd64", "a/b/c/d", "linux/am d64"] {
            assert!(bad.parse::<Platform>().is_err(), "{bad}");
        }
    }

    #[test]
    fn matching_respects_variants() {
        let v7: Platform = "linux/arm/v7".parse().unwrap();
        let v6: Platform = "linux/arm/v6".parse().unwrap();
        assert!(!v7.matches(&v6));
        assert!(v7.matches(&Platform::new("linux", "arm", Some("v7"))));
        let amd: Platform = "linux/amd64".parse().unwrap();
        assert!(amd.matches(&Platform::new("linux", "x86_64", None)));
        assert!(!amd.matches(&v7));
    }

    #[test]
    fn host_platform_is_linux_amd64_here() {
        let host = Platform::host();
        assert_eq!(host.os, std::env::consts::OS);
        assert!(!host.architecture.is_empty());
    }
}
