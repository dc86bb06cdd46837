use super::*;
use crate::generate_key_pair;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};

/// A policy folder with a named JSON file and a data file beside it.
fn policy_folder() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policies");
    std::fs::create_dir(&policy).unwrap();
    std::fs::write(
        policy.join("p.warden"),
        "package p\n\ntarget request: { user: string, ... } default deny\n\ndata allowed: [string]\ndata regions: [string] = file(\"regions.json\")\n\n@control(\"T-1\")\nrule known on request as r {\n  allow when r.user in data.allowed\n}\n",
    )
    .unwrap();
    std::fs::write(policy.join("regions.json"), "[\"eu\"]").unwrap();
    std::fs::write(policy.join("notes.txt"), "not part of the set").unwrap();
    std::fs::write(dir.path().join("allowed.json"), "[\"ada\"]").unwrap();
    dir
}

fn keys() -> (SigningKey, VerifyingKey) {
    let pair = generate_key_pair().unwrap();
    (
        SigningKey::from_pkcs8_pem(&pair.private_pem).unwrap(),
        VerifyingKey::from_public_key_pem(&pair.public_pem).unwrap(),
    )
}

fn build_bytes(dir: &Path, key: Option<&SigningKey>, at: &str) -> (Vec<u8>, Built) {
    let mut out = Vec::new();
    let data = format!("allowed={}", dir.join("allowed.json").display());
    let workspace = warden::Workspace::read(&[dir.join("policies")]).unwrap();
    let built = build(&workspace, &[data], key, at.parse().unwrap(), &mut out).unwrap();
    (out, built)
}

/// The entries of an archive, as (path, bytes), in order.
fn entries_of(bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
    tar.entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let path = String::from_utf8(e.path_bytes().to_vec()).unwrap();
            let mut content = Vec::new();
            e.read_to_end(&mut content).unwrap();
            (path, content)
        })
        .collect()
}

/// An archive entry: its name, kind and content.
type RawEntry<'a> = (&'a str, tar::EntryType, &'a [u8]);

/// An archive of raw entries: the name is written into the header as is
/// (no check of `..` or `/`), as a hostile archive would.
fn raw_archive(entries: &[RawEntry]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, kind, bytes) in entries {
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_size(bytes.len() as u64);
        header.set_mode(0o644);
        header.set_entry_type(*kind);
        if kind.is_symlink() || kind.is_hard_link() {
            header.set_link_name("/etc/passwd").unwrap();
        }
        header.set_cksum();
        tar.append(&header, *bytes).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

/// A manifest listing `files` (path, content), with the revision they give.
fn listing(files: &[(&str, &[u8])]) -> Vec<u8> {
    let mut manifest = Manifest {
        format: crate::FORMAT.into(),
        revision: String::new(),
        built_at: "2026-12-01T00:00:00Z".into(),
        policy: "policy".into(),
        data: Vec::new(),
        files: files
            .iter()
            .map(|(p, b)| (p.to_string(), sha256(b)))
            .collect(),
    };
    manifest.revision = manifest.content_revision();
    serde_json::to_vec(&manifest).unwrap()
}

fn rebuilt(entries: &[(String, Vec<u8>)]) -> Vec<u8> {
    let list: Vec<RawEntry> = entries
        .iter()
        .map(|(p, b)| (p.as_str(), tar::EntryType::Regular, b.as_slice()))
        .collect();
    raw_archive(&list)
}

fn read_error(bytes: &[u8]) -> BundleError {
    read(bytes, &Limits::default(), None, None).expect_err("refused")
}

#[test]
fn a_built_bundle_reads_back_verifies_and_unpacks_to_the_same_policy_revision() {
    let dir = policy_folder();
    let (signing, verifying) = keys();
    let (bytes, built) = build_bytes(dir.path(), Some(&signing), "2026-12-01T00:00:00Z");
    // Exactly the files the compiler read, and the data file.
    let listed: Vec<&str> = built.manifest.files.keys().map(String::as_str).collect();
    assert_eq!(
        listed,
        [
            "data/allowed.json",
            "policy/p.warden",
            "policy/regions.json"
        ]
    );
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("unpacked");
    let bundle = read(
        bytes.as_slice(),
        &Limits::default(),
        Some(&verifying),
        Some(&target),
    )
    .unwrap();
    assert_eq!(bundle.manifest(), &built.manifest);
    assert_eq!(bundle.verified_by(), Some(key_id(&verifying).as_str()));
    let unpacked = bundle.unpacked().unwrap();
    let from_bundle = warden::Workspace::read(&[&unpacked.policy]).unwrap();
    let from_folder = warden::Workspace::read(&[dir.path().join("policies")]).unwrap();
    assert_eq!(from_bundle.revision(), from_folder.revision());
    let mut engine = from_bundle.engine().unwrap();
    for arg in &unpacked.data {
        engine = engine
            .with_data_arg(arg, &warden::InputLimits::DATA)
            .unwrap();
    }
    let decision = engine
        .decide(
            "request",
            &serde_json::json!({"user": "ada"}),
            std::time::SystemTime::now(),
        )
        .unwrap();
    assert!(decision.is_allowed(), "{decision:?}");
}

#[test]
fn the_revision_is_the_content_not_the_build_time() {
    let dir = policy_folder();
    let (a, first) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    let (b, second) = build_bytes(dir.path(), None, "2026-12-02T00:00:00Z");
    assert_ne!(a, b);
    assert_eq!(first.manifest.revision, second.manifest.revision);
    std::fs::write(dir.path().join("allowed.json"), "[\"ada\", \"bob\"]").unwrap();
    let (_, third) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    assert_ne!(first.manifest.revision, third.manifest.revision);
}

#[test]
fn unsigned_and_wrongly_signed_bundles_are_refused() {
    let dir = policy_folder();
    let (signing, verifying) = keys();
    let (_, other) = keys();
    let with = |bytes: &[u8], key: &VerifyingKey| read(bytes, &Limits::default(), Some(key), None);
    let (unsigned, _) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    assert!(matches!(
        with(&unsigned, &verifying),
        Err(BundleError::Unsigned)
    ));
    // Without a key it reads (digests checked), verified by nobody.
    let read_unchecked = read(unsigned.as_slice(), &Limits::default(), None, None).unwrap();
    assert_eq!(read_unchecked.verified_by(), None);
    let (signed, _) = build_bytes(dir.path(), Some(&signing), "2026-12-01T00:00:00Z");
    let err = with(&signed, &other).unwrap_err();
    assert!(matches!(err, BundleError::BadSignature { .. }), "{err}");
    assert_eq!(err.code(), warden::Code::E0607);
    // A signature moved onto another manifest (same key) does not verify.
    let signature = entries_of(&signed)[1].clone();
    assert_eq!(signature.0, SIGNATURE);
    let mut entries = entries_of(&unsigned);
    let mut manifest: Manifest = serde_json::from_slice(&entries[0].1).unwrap();
    manifest.built_at = "2030-01-01T00:00:00Z".into();
    entries[0].1 = serde_json::to_vec(&manifest).unwrap();
    entries.insert(1, signature.clone());
    assert!(matches!(
        with(&rebuilt(&entries), &verifying),
        Err(BundleError::BadSignature { .. })
    ));
    // The key id is not signed: one that is not an id is refused outright
    // (it was shown to operators as it came, escape sequences and all).
    let mut spoofed = entries_of(&signed);
    let mut file: SignatureFile = serde_json::from_slice(&spoofed[1].1).unwrap();
    file.key_id = "sha256:0000\u{1b}[2J".into();
    spoofed[1].1 = serde_json::to_vec(&file).unwrap();
    let err = with(&rebuilt(&spoofed), &verifying).unwrap_err();
    assert_eq!(err.code(), warden::Code::E0603, "{err}");
}

#[test]
fn nothing_is_read_past_an_unverified_manifest_and_nothing_unlisted_is_written() {
    let dir = policy_folder();
    let (signing, verifying) = keys();
    let (signed, _) = build_bytes(dir.path(), Some(&signing), "2026-12-01T00:00:00Z");
    let (unsigned, _) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    let out = tempfile::tempdir().unwrap();
    // An unsigned manifest, then 32 MB: refused at the manifest, before
    // the big entry is read or written.
    let mut entries = entries_of(&unsigned);
    entries.insert(1, ("policy/zeros.json".into(), vec![0; 32 << 20]));
    let target = out.path().join("a");
    let err = read(
        rebuilt(&entries).as_slice(),
        &Limits::default(),
        Some(&verifying),
        Some(&target),
    )
    .unwrap_err();
    assert!(matches!(err, BundleError::Unsigned), "{err}");
    assert!(!target.exists());
    // Signed, but with an entry the manifest does not list: refused before
    // its content is written.
    let mut entries = entries_of(&signed);
    entries.insert(
        2,
        ("policy/extra.warden".into(), b"package extra\n".to_vec()),
    );
    let target = out.path().join("b");
    let err = read(
        rebuilt(&entries).as_slice(),
        &Limits::default(),
        Some(&verifying),
        Some(&target),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not in the manifest"), "{err}");
    assert!(!target.exists());
    // The manifest must come first, the signature right after it.
    let mut entries = entries_of(&signed);
    entries.swap(0, 2);
    let err = read(rebuilt(&entries).as_slice(), &Limits::default(), None, None).unwrap_err();
    assert!(err.to_string().contains("first entry"), "{err}");
    let mut entries = entries_of(&signed);
    entries.swap(1, 2);
    let err = read(rebuilt(&entries).as_slice(), &Limits::default(), None, None).unwrap_err();
    assert!(err.to_string().contains("does not follow"), "{err}");
}

#[test]
fn a_changed_file_is_a_digest_mismatch_and_a_changed_listing_a_revision_mismatch() {
    let dir = policy_folder();
    let (bytes, _) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    let mut entries = entries_of(&bytes);
    let at = entries
        .iter()
        .position(|(p, _)| p == "policy/p.warden")
        .unwrap();
    entries[at].1 = b"package p\n".to_vec();
    let err = read_error(&rebuilt(&entries));
    assert!(
        matches!(&err, BundleError::Digest { path } if path == "policy/p.warden"),
        "{err}"
    );
    // The manifest rewritten to list the new digest: the revision no longer matches.
    let mut manifest: Manifest = serde_json::from_slice(&entries[0].1).unwrap();
    manifest
        .files
        .insert("policy/p.warden".into(), sha256(b"package p\n"));
    entries[0].1 = serde_json::to_vec(&manifest).unwrap();
    let err = read_error(&rebuilt(&entries));
    assert!(err.to_string().contains("revision"), "{err}");
}

#[test]
fn paths_links_and_duplicates_that_could_escape_or_mislead_are_refused() {
    let dir = policy_folder();
    let (bytes, _) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    let good = entries_of(&bytes);
    let manifest = good[0].1.as_slice();
    let conflict = listing(&[("policy/a", b"x"), ("policy/a/b", b"x")]);
    let regular = tar::EntryType::Regular;
    let cases: Vec<(&str, Vec<RawEntry>)> = vec![
        (
            "../",
            vec![
                (MANIFEST, regular, manifest),
                ("policy/../../x", regular, b"x"),
            ],
        ),
        (
            "absolute",
            vec![
                (MANIFEST, regular, manifest),
                ("/etc/cron.d/x", regular, b"x"),
            ],
        ),
        (
            "plain relative",
            vec![(MANIFEST, regular, manifest), ("policy/./x", regular, b"x")],
        ),
        (
            "backslash",
            vec![
                (MANIFEST, regular, manifest),
                ("policy\\..\\x", regular, b"x"),
            ],
        ),
        (
            "not a regular file",
            vec![
                (MANIFEST, regular, manifest),
                ("policy/l", tar::EntryType::Symlink, b""),
            ],
        ),
        (
            "not a regular file",
            vec![
                (MANIFEST, regular, manifest),
                ("policy/h", tar::EntryType::Link, b""),
            ],
        ),
        (
            "not a regular file",
            vec![
                (MANIFEST, regular, manifest),
                ("policy/c", tar::EntryType::Char, b""),
            ],
        ),
        (
            "twice",
            vec![(MANIFEST, regular, manifest), (MANIFEST, regular, manifest)],
        ),
        (
            "outside",
            vec![(MANIFEST, regular, manifest), ("etc/x", regular, b"x")],
        ),
        (
            "both as a file and a folder",
            vec![(MANIFEST, regular, &conflict), ("policy/a", regular, b"x")],
        ),
        (
            "`manifest.json` is not the first entry",
            vec![("policy/p.warden", regular, b"x")],
        ),
        (
            "not in the manifest",
            vec![
                (MANIFEST, regular, manifest),
                ("policy/extra.warden", regular, b"x"),
            ],
        ),
        (
            "in the manifest but not in the archive",
            vec![(MANIFEST, regular, manifest)],
        ),
    ];
    for (why, entries) in cases {
        let err = read_error(&raw_archive(&entries));
        assert!(err.to_string().contains(why), "{why}: {err}");
        assert_eq!(err.code(), warden::Code::E0603, "{why}: {err}");
    }
    let err = read_error(&raw_archive(&[]));
    assert!(
        err.to_string().contains("there is no `manifest.json`"),
        "{err}"
    );
    // Not an archive at all.
    assert_eq!(read_error(b"not gzip").code(), warden::Code::E0603);
}

#[test]
fn sizes_are_bounded_before_they_are_read_whole() {
    let small = Limits {
        max_archive_bytes: 4 << 10,
        max_unpacked_bytes: 64 << 10,
        max_entries: 5,
        max_path_bytes: 64,
    };
    // A gzip bomb: 32 MB of zeros compress to a few kilobytes.
    let zeros = vec![0u8; 32 << 20];
    let listed = listing(&[("policy/zeros.json", &zeros)]);
    let regular = tar::EntryType::Regular;
    let bomb = raw_archive(&[
        (MANIFEST, regular, &listed),
        ("policy/zeros.json", regular, &zeros),
    ]);
    let big = Limits {
        max_archive_bytes: 1 << 20,
        ..small.clone()
    };
    let err = read(bomb.as_slice(), &big, None, None).unwrap_err();
    assert!(matches!(err, BundleError::TooLarge(_)), "{err}");
    let err = read(bomb.as_slice(), &small, None, None).unwrap_err();
    assert!(
        err.to_string()
            .contains("the archive is larger than 4096 bytes"),
        "{err}"
    );
    let many: Vec<String> = (0..10).map(|i| format!("policy/{i}.warden")).collect();
    let files: Vec<(&str, &[u8])> = many.iter().map(|p| (p.as_str(), &b"x"[..])).collect();
    let listed = listing(&files);
    let err = read(
        raw_archive(&[(MANIFEST, regular, &listed)]).as_slice(),
        &big,
        None,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("lists more than 5 files"), "{err}");
    let long = format!("policy/{}", "a".repeat(80));
    let listed = listing(&[(long.as_str(), b"x")]);
    let err = read(
        raw_archive(&[(MANIFEST, regular, &listed)]).as_slice(),
        &big,
        None,
        None,
    )
    .unwrap_err();
    assert!(err.to_string().contains("longer than 64 bytes"), "{err}");
}

#[test]
fn a_refused_bundle_leaves_nothing_unpacked() {
    let dir = policy_folder();
    let (bytes, _) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    let mut entries = entries_of(&bytes);
    let last = entries.len() - 1;
    entries[last].1.push(b' ');
    let out = tempfile::tempdir().unwrap();
    let target = out.path().join("x");
    assert!(
        read(
            rebuilt(&entries).as_slice(),
            &Limits::default(),
            None,
            Some(&target)
        )
        .is_err()
    );
    assert!(!target.exists());
}

#[test]
fn a_set_that_does_not_compile_is_not_bundled() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("p.warden"),
        "package p\nrule r on nothing as x { deny when x }\n",
    )
    .unwrap();
    let workspace = warden::Workspace::read(&[dir.path()]).unwrap();
    let err = build(&workspace, &[], None, jiff::Timestamp::now(), Vec::new()).unwrap_err();
    assert_eq!(err.code(), warden::Code::E0602, "{err}");
}

#[test]
fn long_names_are_read_within_the_path_limit_and_other_extensions_refused() {
    // A path over 100 bytes: `warden build` writes it as a GNU long name,
    // which reads back.
    let dir = policy_folder();
    let deep = dir.path().join("policies").join("d".repeat(120));
    std::fs::create_dir(&deep).unwrap();
    std::fs::write(deep.join("q.warden"), "package q\n").unwrap();
    let (bytes, built) = build_bytes(dir.path(), None, "2026-12-01T00:00:00Z");
    assert!(built.manifest.files.keys().any(|p| p.len() > 100));
    read(bytes.as_slice(), &Limits::default(), None, None).unwrap();

    // A long-name or PAX entry of 16 MiB (the tar reader would read it whole
    // into memory before anything else could look): refused from its
    // header, before a byte of it is read.
    let small = Limits {
        max_unpacked_bytes: 1 << 20,
        ..Limits::default()
    };
    let zeros = vec![0u8; 16 << 20];
    for kind in [
        tar::EntryType::GNULongName,
        tar::EntryType::XHeader,
        tar::EntryType::XGlobalHeader,
    ] {
        let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut header = tar::Header::new_gnu();
        header.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        header.set_entry_type(kind);
        header.set_size(zeros.len() as u64);
        header.set_cksum();
        tar.append(&header, zeros.as_slice()).unwrap();
        let archive = tar.into_inner().unwrap().finish().unwrap();
        let err = read(archive.as_slice(), &small, None, None).unwrap_err();
        assert_eq!(err.code(), warden::Code::E0603, "{kind:?}: {err}");
    }
}
