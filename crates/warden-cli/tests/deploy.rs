//! `deploy/` as an operator applies it: the Kubernetes manifests validate
//! against the Kubernetes schemas (`kubernetes-validate --strict`, which
//! `.ci/run` installs), the systemd unit passes `systemd-analyze verify`,
//! and the configuration each carries is one `warden serve` reads.

mod common;

use common::root;
use std::process::Command;

/// Runs a checker, which must pass; what it printed.
fn passes(command: &mut Command) -> String {
    let out = command.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{text}");
    text
}

#[test]
fn the_kubernetes_manifests_validate_against_the_schemas() {
    let Some(validate) = common::installed_client("kubernetes-validate") else {
        return;
    };
    let dir = root().join("deploy/kubernetes");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let kinds = [
        "configmap",
        "deployment",
        "horizontalpodautoscaler",
        "poddisruptionbudget",
        "service",
    ];
    for kind in kinds {
        assert!(
            files.iter().any(|f| f.ends_with(format!("{kind}.yaml"))),
            "deploy/kubernetes/{kind}.yaml"
        );
    }
    let text = passes(Command::new(validate).arg("--strict").args(&files));
    assert_eq!(
        text.matches(" passed for resource ").count(),
        files.len(),
        "{text}"
    );
    // The readiness probe asks /ready, as docs/deployment.md says.
    let deployment = std::fs::read_to_string(dir.join("deployment.yaml")).unwrap();
    assert!(
        deployment.contains("readinessProbe:\n            httpGet:\n              path: /ready")
    );
}

/// The block under `key: |` in a ConfigMap, unindented.
fn config_map_entry(text: &str, key: &str) -> String {
    let mut lines = text.lines().skip_while(|l| l.trim() != format!("{key}: |"));
    lines.next().expect("the entry is there");
    let body: Vec<&str> = lines
        .take_while(|l| l.starts_with("    ") || l.is_empty())
        .collect();
    body.iter()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

#[test]
fn the_configurations_in_deploy_are_ones_the_server_reads() {
    let map = std::fs::read_to_string(root().join("deploy/kubernetes/configmap.yaml")).unwrap();
    let systemd = std::fs::read_to_string(root().join("deploy/systemd/warden.toml")).unwrap();
    for text in [config_map_entry(&map, "warden.toml"), systemd] {
        let config = warden_server::ServerConfig::from_toml(&text).expect("parses");
        let bundle = config.bundle.as_ref().expect("a bundle source");
        assert!(bundle.poll_interval().is_ok());
        assert!(bundle.verify_key.is_some(), "bundles are verified");
        assert!(config.decision_log.is_some(), "decisions are logged");
        assert!(
            config.ship.http.is_some() || config.ship.syslog.is_some(),
            "and shipped"
        );
    }
    let dir = common::scratch("deploy-key");
    let key = dir.join("verify.pub.pem");
    std::fs::write(&key, config_map_entry(&map, "verify.pub.pem")).unwrap();
    warden_bundle::read_verifying_key(&key).expect("an Ed25519 public key");
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    let present = Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_ok();
    if !common::installed(present, "systemd-analyze") {
        return;
    }
    // The unit names the binary where it is installed; here, this build's.
    let dir = common::scratch("deploy-systemd");
    let unit = std::fs::read_to_string(root().join("deploy/systemd/warden.service"))
        .unwrap()
        .replace(
            "/usr/local/bin/warden",
            common::warden_bin().to_str().unwrap(),
        );
    let path = dir.join("warden.service");
    std::fs::write(&path, unit).unwrap();
    let text = passes(Command::new("systemd-analyze").arg("verify").arg(&path));
    assert!(
        !text.contains("warden.service:"),
        "no warning about the unit: {text}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
