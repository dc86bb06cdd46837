//! Bundles in an OCI registry (the distribution standard container images
//! travel by): `warden bundle push` stores a bundle as a one-layer OCI
//! artifact (through `oci-client`), and `warden serve --bundle oci://…`
//! reads its manifest each poll and pulls the layer when the manifest's
//! digest changes. The bundle inside is verified exactly as one fetched
//! over HTTP.
//!
//! The pull side is three bounded `GET`s of the distribution API (a token,
//! the manifest, the blob) rather than `oci-client`'s pull: that reads every
//! answer whole (manifest, token, error bodies) with no size bound, and a
//! server polling a registry must not let one answer take its memory.

use std::collections::BTreeMap;
use std::path::Path;

/// The layer's media type: a bundle as `warden build` writes it.
pub const LAYER_MEDIA_TYPE: &str = "application/vnd.warden.bundle.layer.v1.tar+gzip";
/// The config blob's media type (`{}`: a bundle carries its own manifest).
pub const CONFIG_MEDIA_TYPE: &str = "application/vnd.warden.bundle.config.v1+json";

/// The largest manifest read (one is a few hundred bytes).
const MANIFEST_BYTES: u64 = 4 << 20;
/// The largest token answer read.
const TOKEN_BYTES: u64 = 1 << 20;
/// The manifest types asked for.
const ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json";

/// An `oci://REGISTRY/REPOSITORY:TAG` (or `@sha256:…`) source.
pub struct OciSource {
    client: oci_client::Client,
    reference: oci_client::Reference,
    auth: oci_client::secrets::RegistryAuth,
    /// For pulls: every answer bounded, the whole exchange within `timeout`.
    agent: ureq::Agent,
    scheme: &'static str,
    timeout: std::time::Duration,
    /// A bearer token the registry gave, reused until it is refused.
    token: std::sync::Mutex<Option<String>>,
}

/// Whether a source is an OCI reference.
pub fn is_oci(source: &str) -> bool {
    source.starts_with("oci://")
}

impl OciSource {
    /// Reads `oci://…`; `plain_http` talks HTTP to the registry (a registry
    /// on loopback or inside a cluster without TLS); `ca_file` adds CAs.
    /// Credentials come from `WARDEN_REGISTRY_USERNAME` and
    /// `WARDEN_REGISTRY_PASSWORD` when both are set.
    pub fn new(
        source: &str,
        plain_http: bool,
        ca_file: Option<&Path>,
        timeout: std::time::Duration,
    ) -> Result<OciSource, String> {
        // rustls without a built-in provider: the server's (ring) serves it.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let text = source
            .strip_prefix("oci://")
            .ok_or_else(|| format!("`{}` does not start with oci://", source.escape_default()))?;
        let reference: oci_client::Reference = text
            .parse()
            .map_err(|e| format!("`{}` is not an OCI reference: {e}", source.escape_default()))?;
        let mut extra_root_certificates = Vec::new();
        if let Some(ca) = ca_file {
            let pem =
                warden::read_file_bounded(ca, 1 << 20).map_err(|e| format!("ca_file: {e}"))?;
            extra_root_certificates.push(oci_client::client::Certificate {
                encoding: oci_client::client::CertificateEncoding::Pem,
                data: pem.into_bytes(),
            });
        }
        let config = oci_client::client::ClientConfig {
            protocol: if plain_http {
                oci_client::client::ClientProtocol::Http
            } else {
                oci_client::client::ClientProtocol::Https
            },
            extra_root_certificates,
            read_timeout: Some(timeout),
            connect_timeout: Some(timeout),
            ..Default::default()
        };
        let auth = match (
            std::env::var("WARDEN_REGISTRY_USERNAME"),
            std::env::var("WARDEN_REGISTRY_PASSWORD"),
        ) {
            (Ok(user), Ok(password)) => oci_client::secrets::RegistryAuth::Basic(user, password),
            _ => oci_client::secrets::RegistryAuth::Anonymous,
        };
        Ok(OciSource {
            client: oci_client::Client::new(config),
            reference,
            auth,
            agent: crate::http_client::agent(ca_file, timeout, 5)?,
            scheme: if plain_http { "http" } else { "https" },
            timeout,
            token: std::sync::Mutex::new(None),
        })
    }

    fn shown(&self, e: &dyn std::fmt::Display) -> String {
        format!("{}: {e}", self.reference)
    }

    /// `GET url` by `until`, answering the registry's challenge once if it
    /// asks for credentials (`WWW-Authenticate: Bearer …` or `Basic`): they
    /// are sent only where asked for, never up front. The body read up to
    /// `limit` bytes (more is an error). Blocking.
    fn get(
        &self,
        url: &str,
        accept: Option<&str>,
        limit: u64,
        until: std::time::Instant,
    ) -> Result<(Vec<u8>, ureq::http::HeaderMap), String> {
        let mut challenged = false;
        let mut send_basic = false;
        loop {
            let mut request = self
                .agent
                .get(url)
                .config()
                .timeout_global(Some(left_until(until)?))
                .build();
            if let Some(accept) = accept {
                request = request.header("Accept", accept);
            }
            let token = self.token.lock().unwrap_or_else(|p| p.into_inner()).clone();
            match (&token, &self.auth) {
                (Some(token), _) => {
                    request = request.header("Authorization", format!("Bearer {token}"))
                }
                (None, oci_client::secrets::RegistryAuth::Basic(user, password)) if send_basic => {
                    request = request.header("Authorization", basic(user, password));
                }
                _ => {}
            }
            let mut response = request.call().map_err(|e| {
                if self.scheme == "https" {
                    format!(
                        "{e} (a registry without TLS needs `--registry-plain-http` or \
                         `[bundle] plain_http = true`)"
                    )
                } else {
                    e.to_string()
                }
            })?;
            let status = response.status().as_u16();
            if status == 401 && !challenged {
                challenged = true;
                let challenge = response
                    .headers()
                    .get("www-authenticate")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("")
                    .chars()
                    .take(2048)
                    .collect::<String>();
                if challenge.starts_with("Basic") {
                    send_basic = true;
                    continue;
                }
                let token = self.bearer_token(&challenge, until)?;
                *self.token.lock().unwrap_or_else(|p| p.into_inner()) = Some(token);
                continue;
            }
            if status != 200 {
                return Err(format!("{url} answered HTTP {status}"));
            }
            let headers = response.headers().clone();
            let body = read_bounded(response.body_mut().as_reader(), limit)
                .map_err(|e| format!("{url}: {e}"))?;
            return Ok((body, headers));
        }
    }

    /// A token from the realm a `Bearer` challenge names (the registry's
    /// token service), asked with the credentials when there are any, over
    /// TLS whenever the registry is reached over TLS.
    fn bearer_token(&self, challenge: &str, until: std::time::Instant) -> Result<String, String> {
        let Some(params) = challenge.strip_prefix("Bearer ") else {
            return Err(format!(
                "the registry asks for credentials (`{}`) this server does not have",
                challenge.escape_default()
            ));
        };
        let field = |name: &str| {
            params.split(',').find_map(|part| {
                let (key, value) = part.trim().split_once('=')?;
                (key == name).then(|| value.trim_matches('"').to_string())
            })
        };
        let realm = field("realm").ok_or("the registry's challenge names no realm")?;
        let plain_allowed = self.scheme == "http" && realm.starts_with("http://");
        if !(realm.starts_with("https://") || plain_allowed) {
            return Err(format!(
                "the token realm `{}` is not an https URL",
                realm.escape_default()
            ));
        }
        let mut request = self
            .agent
            .get(&realm)
            .config()
            .timeout_global(Some(left_until(until)?))
            .build();
        for name in ["service", "scope"] {
            if let Some(value) = field(name) {
                request = request.query(name, &value);
            }
        }
        if let oci_client::secrets::RegistryAuth::Basic(user, password) = &self.auth {
            request = request.header("Authorization", basic(user, password));
        }
        let mut response = request.call().map_err(|e| format!("{realm}: {e}"))?;
        if response.status().as_u16() != 200 {
            return Err(format!(
                "{realm} answered HTTP {}",
                response.status().as_u16()
            ));
        }
        let body = read_bounded(response.body_mut().as_reader(), TOKEN_BYTES)
            .map_err(|e| format!("{realm}: {e}"))?;
        let answer: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| format!("{realm}: not a token answer: {e}"))?;
        answer
            .get("token")
            .or_else(|| answer.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| format!("{realm}: no token in the answer"))
    }

    fn manifest_url(&self) -> String {
        let what = self
            .reference
            .digest()
            .or(self.reference.tag())
            .unwrap_or("latest");
        format!(
            "{}://{}/v2/{}/manifests/{what}",
            self.scheme,
            self.reference.resolve_registry(),
            self.reference.repository()
        )
    }

    /// The manifest the reference names now, and its digest (`sha256:` of
    /// its bytes). Blocking.
    fn manifest(
        &self,
        until: std::time::Instant,
    ) -> Result<(oci_client::manifest::OciImageManifest, String), String> {
        let (bytes, _) = self
            .get(&self.manifest_url(), Some(ACCEPT), MANIFEST_BYTES, until)
            .map_err(|e| self.shown(&e))?;
        let digest = warden::sha256_text(&bytes);
        if let Some(pinned) = self.reference.digest()
            && pinned != digest
        {
            return Err(self.shown(&format!(
                "the registry sent a manifest of digest {digest}, not the {pinned} the reference pins"
            )));
        }
        let manifest = serde_json::from_slice(&bytes)
            .map_err(|e| self.shown(&format!("not an image manifest: {e}")))?;
        Ok((manifest, digest))
    }

    /// The manifest's digest now, or the bundle when it differs from
    /// `held`: `Ok(None)` when unchanged. At most `max_bytes`, the whole
    /// exchange within the timeout given. Blocking.
    pub fn pull_if_changed(
        &self,
        held: Option<&str>,
        max_bytes: u64,
    ) -> Result<Option<(Vec<u8>, String)>, String> {
        // One deadline for the whole exchange: token, manifest and blob.
        let until = std::time::Instant::now() + self.timeout;
        let (manifest, digest) = self.manifest(until)?;
        if held == Some(digest.as_str()) {
            return Ok(None);
        }
        let layer = match manifest.layers.as_slice() {
            [layer] if layer.media_type == LAYER_MEDIA_TYPE => layer,
            _ => {
                return Err(self.shown(&format!(
                    "not a Warden bundle: an artifact of one `{LAYER_MEDIA_TYPE}` layer is expected \
                     (push it with `warden bundle push`)"
                )));
            }
        };
        if layer.size < 0 || layer.size as u64 > max_bytes {
            return Err(self.shown(&format!(
                "the bundle is larger than {max_bytes} bytes ({} listed)",
                layer.size
            )));
        }
        let url = format!(
            "{}://{}/v2/{}/blobs/{}",
            self.scheme,
            self.reference.resolve_registry(),
            self.reference.repository(),
            layer.digest
        );
        let (bytes, _) = self
            .get(&url, None, max_bytes, until)
            .map_err(|e| self.shown(&e))?;
        if warden::sha256_text(&bytes) != layer.digest {
            return Err(self.shown(&format!(
                "the layer does not match its digest {}",
                layer.digest
            )));
        }
        Ok(Some((bytes, digest)))
    }

    /// Pushes `bundle` (a `.tar.gz` from `warden build`) under the
    /// reference, with its revision as an annotation; the manifest's URL.
    pub async fn push(&self, bundle: Vec<u8>, revision: &str) -> Result<String, String> {
        tokio::time::timeout(self.timeout, self.push_unbounded(bundle, revision))
            .await
            .map_err(|_| self.shown(&format!("the push took longer than {:?}", self.timeout)))?
    }

    async fn push_unbounded(&self, bundle: Vec<u8>, revision: &str) -> Result<String, String> {
        let mut annotations = BTreeMap::new();
        annotations.insert(
            "org.opencontainers.image.title".to_string(),
            "bundle.tar.gz".to_string(),
        );
        let layer = oci_client::client::ImageLayer::new(
            bundle,
            LAYER_MEDIA_TYPE.to_string(),
            Some(annotations),
        );
        let config =
            oci_client::client::Config::new(b"{}".to_vec(), CONFIG_MEDIA_TYPE.to_string(), None);
        let mut manifest_annotations = BTreeMap::new();
        manifest_annotations.insert(
            "org.opencontainers.image.revision".to_string(),
            revision.to_string(),
        );
        let layers = [layer];
        let manifest = oci_client::manifest::OciImageManifest::build(
            &layers,
            &config,
            Some(manifest_annotations),
        );
        self.client
            .push(&self.reference, &layers, config, &self.auth, Some(manifest))
            .await
            .map(|pushed| pushed.manifest_url)
            .map_err(|e| {
                let hint = if self.scheme == "https" {
                    " (a registry without TLS needs `--plain-http`)"
                } else {
                    ""
                };
                format!("{}: {e}{hint}", self.reference)
            })
    }
}

/// What is left until `until`, or that the time is up.
fn left_until(until: std::time::Instant) -> Result<std::time::Duration, String> {
    until
        .checked_duration_since(std::time::Instant::now())
        .filter(|d| !d.is_zero())
        .ok_or_else(|| "the registry took longer than the fetch timeout".to_string())
}

/// `Basic` credentials for a header.
fn basic(user: &str, password: &str) -> String {
    use base64::Engine as _;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"))
    )
}

/// Reads at most `limit` bytes; more is an error.
fn read_bounded(reader: impl std::io::Read, limit: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let mut bytes = Vec::new();
    reader
        .take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > limit {
        return Err(format!("the answer is larger than {limit} bytes"));
    }
    Ok(bytes)
}
