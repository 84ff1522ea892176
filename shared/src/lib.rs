//! The End Users service: every rule of the API, once. Lambdas and the local server are thin
//! transports over [`http::Api`] with the [`families`] they mount.
//!
//! Dependencies point one way: transports (`runtime`, the local server) -> `families` -> `http`
//! and `service` -> `vault`, `crm` and `store` -> `domain`. `domain` depends on no other module and no
//! transport, storage or runtime crate.

pub mod aws;
pub mod bus;
pub mod config;
pub mod crm;
pub mod domain;
pub mod error;
pub mod families;
pub mod http;
pub mod runtime;
pub mod service;
pub mod store;
pub mod vault;

#[cfg(test)]
mod testing;

/// The dependency rule above, checked on the sources: each module names only the modules below it.
#[cfg(test)]
mod layering {
    use std::collections::BTreeSet;
    use std::path::Path;

    /// What each top-level module may use besides itself.
    const ALLOWED: &[(&str, &[&str])] = &[
        ("domain", &[]),
        ("config", &["domain"]),
        // `testing`: the loopback servers of the HTTP clients' unit tests.
        ("aws", &["config", "testing"]),
        ("store", &["domain", "config", "aws"]),
        ("vault", &["domain", "config", "aws", "testing"]),
        ("bus", &["config", "aws"]),
        ("crm", &["domain", "aws", "testing"]),
        ("error", &["domain", "store", "vault"]),
        (
            "service",
            &["domain", "store", "error", "vault", "bus", "crm"],
        ),
        ("http", &["domain", "error", "config"]),
        (
            "families",
            &[
                "domain", "error", "http", "service", "store", "runtime", "vault", "config", "crm",
            ],
        ),
        (
            "runtime",
            &[
                "bus", "config", "crm", "domain", "http", "service", "store", "vault",
            ],
        ),
    ];

    /// Every `crate::<module>` a source file names.
    fn named_modules(source: &str) -> BTreeSet<String> {
        source
            .match_indices("crate::")
            .map(|(at, _)| {
                source[at + "crate::".len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            })
            .collect()
    }

    fn files(dir: &Path, found: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a source directory") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                files(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                found.push(path);
            }
        }
    }

    #[test]
    fn dependencies_point_one_way() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut sources = Vec::new();
        files(&root, &mut sources);
        let mut checked = 0;
        for path in sources {
            let relative = path.strip_prefix(&root).expect("under src");
            let first = relative
                .iter()
                .next()
                .and_then(|c| c.to_str())
                .unwrap_or("");
            let module = first.trim_end_matches(".rs");
            let Some((_, allowed)) = ALLOWED.iter().find(|(name, _)| *name == module) else {
                continue;
            };
            let source = std::fs::read_to_string(&path).expect("readable");
            if module == "domain" {
                for runtime_crate in ["lambda_http", "serde_dynamo", "aws_", "tokio"] {
                    assert!(
                        !source.contains(runtime_crate),
                        "{} uses {runtime_crate}: the domain is pure",
                        relative.display()
                    );
                }
            }
            for named in named_modules(&source) {
                assert!(
                    named == module || allowed.contains(&named.as_str()),
                    "{} uses crate::{named}, which {module} may not depend on",
                    relative.display()
                );
            }
            checked += 1;
        }
        assert!(checked > 20, "only {checked} files checked");
    }
}
