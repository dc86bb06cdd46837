//! `cargo bench -p warden-benches --bench memory`: W4, in the library. The
//! time and the memory to compile the checklist (`stdlib-policies/`) and to
//! load a 100,000-app catalog in its shape; and, over the bench's own
//! 100,000-app catalog (`catalog(n)`), the memory each engine holds once it
//! is loaded: Warden, the hand-written hash map, regorus and cedar-policy.
//!
//! Memory is counted by a global allocator wrapping the system's: the bytes
//! live (requested and not yet freed), and the most live at once. Each step
//! is measured from the live bytes before it: `peak` is the most it added at
//! once on the way, `held` what it still holds when done (its inputs, such
//! as the JSON text read before the step, are not counted). Allocator
//! overhead and fragmentation are not counted; this is not RSS.
//!
//! `PEERS_QUICK=1` (or running without `--bench`): 10,000 apps.
//! Output: a table, and `target/peers/memory.json` (`memory-quick.json`).

mod common;

use common::{CedarGateway, NOW, REQUEST_REGO, rego_engine, rego_now, system_time, timestamp};
use serde_json::{Value as Json, json};
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::Instant;
use warden::Engine;
use warden_benches::{catalog, checklist_catalog, hand_written, policies, request};

// ---- counting allocator ------------------------------------------------------------

struct Counting;

static LIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

fn grew(bytes: usize) {
    let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
    PEAK.fetch_max(live, Relaxed);
}

fn shrank(bytes: usize) {
    LIVE.fetch_sub(bytes, Relaxed);
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() {
            grew(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) };
        shrank(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            if new_size >= layout.size() {
                grew(new_size - layout.size());
            } else {
                shrank(layout.size() - new_size);
            }
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

struct Measured {
    seconds: f64,
    peak: usize,
    held: usize,
}

/// Runs `step`, with the peak re-based to the live bytes before it.
fn measure<T>(step: impl FnOnce() -> T) -> (T, Measured) {
    let base = LIVE.load(Relaxed);
    PEAK.store(base, Relaxed);
    let start = Instant::now();
    let out = step();
    let seconds = start.elapsed().as_secs_f64();
    let peak = PEAK.load(Relaxed).saturating_sub(base);
    let held = LIVE.load(Relaxed).saturating_sub(base);
    (
        out,
        Measured {
            seconds,
            peak,
            held,
        },
    )
}

// ---- Warden's loaders ----------------------------------------------------------------

/// Loads `text`, a whole data object (`{"catalog": {"apps": …}}`, what
/// `--data FILE` reads), into `engine` as `warden check --data` and
/// `warden serve` do: streamed straight into values (`with_data_text`).
fn warden_load(engine: Engine, text: &str) -> Engine {
    engine
        .with_data_text(None, "catalog.json", text, &warden::InputLimits::DATA)
        .expect("the catalog loads")
}

/// The same through a `serde_json::Value` tree (`parse_json_with`, then
/// `Engine::with_data`): how data loaded before the streaming reader, and
/// how a caller holding a tree loads it still.
fn warden_load_tree(engine: Engine, text: &str) -> Engine {
    let data = warden::parse_json_with("catalog.json", text.as_bytes(), &warden::InputLimits::DATA)
        .expect("the catalog parses");
    engine.with_data(&data).expect("the catalog loads")
}

// ---- the steps -------------------------------------------------------------------------

struct Row {
    what: String,
    engine: &'static str,
    m: Measured,
    note: String,
}

fn mb(bytes: usize) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// `data` as pretty-printed JSON text (as `examples/catalog.json` is written).
fn text_of(data: &Json) -> String {
    serde_json::to_string_pretty(data).expect("JSON")
}

fn main() {
    let bench = std::env::args().any(|a| a == "--bench");
    let quick = !bench || std::env::var("PEERS_QUICK").is_ok_and(|v| !v.is_empty() && v != "0");
    let n = if quick { 10_000 } else { 100_000 };
    let apps = format!("{n} apps");
    let mut rows = Vec::new();
    let now = system_time(NOW);

    // (a) Compiling the checklist.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../stdlib-policies");
    let (checklist, m) = measure(|| Engine::from_dir(&root).expect("the checklist compiles"));
    rows.push(Row {
        what: "compile the checklist (stdlib-policies)".into(),
        engine: "Warden",
        m,
        note: format!("{} rules", checklist.rules().len()),
    });

    // (b) Loading a catalog in the checklist's shape into it.
    let text = text_of(&common::wrap("catalog", checklist_catalog(n)));
    let (loaded, m) = measure(|| warden_load_tree(checklist.clone(), &text));
    rows.push(Row {
        what: format!("load a checklist catalog, {apps}"),
        engine: "Warden, tree",
        m,
        note: format!(
            "from {} of JSON text (not counted) through a serde_json tree (parse_json_with, Engine::with_data)",
            mb(text.len())
        ),
    });
    drop(loaded);
    let (loaded, m) = measure(|| warden_load(checklist, &text));
    rows.push(Row {
        what: format!("load a checklist catalog, {apps}"),
        engine: "Warden",
        m,
        note: format!(
            "from {} of JSON text (not counted), streamed into values (Engine::with_data_text)",
            mb(text.len())
        ),
    });
    drop(loaded);
    drop(text);

    // (c) The bench's catalog (catalog(n), the gateway's shape) in every engine.
    let data = catalog(n);
    let text = text_of(&data);
    drop(data);
    let what = format!("load the bench catalog, {apps}");
    let text_note = format!("from {} of JSON text (not counted)", mb(text.len()));
    let req = request();

    let (apps_map, m) = measure(|| {
        let data: Json = serde_json::from_str(&text).expect("JSON");
        hand_written::load_catalog(&data)
    });
    let d = hand_written::decide_request(&req, &apps_map, timestamp(NOW));
    assert!(
        d.allowed && !d.mask.is_empty(),
        "hand-written decides request()"
    );
    rows.push(Row {
        what: what.clone(),
        engine: "hand-written",
        m,
        note: format!("{text_note}: serde_json::from_str, then load_catalog into a hash map"),
    });
    drop(apps_map);

    let engine = Engine::from_dir(policies().join("request")).expect("the request policy compiles");
    let (tree_engine, m) = measure(|| warden_load_tree(engine.clone(), &text));
    rows.push(Row {
        what: what.clone(),
        engine: "Warden, tree",
        m,
        note: format!("{text_note}: parse_json_with, Engine::with_data"),
    });
    drop(tree_engine);
    let (engine, m) = measure(|| warden_load(engine, &text));
    assert!(
        engine
            .decide("request", &req, now)
            .expect("decides")
            .is_allowed(),
        "Warden decides request()"
    );
    rows.push(Row {
        what: what.clone(),
        engine: "Warden",
        m,
        note: format!("{text_note}: streamed into values (Engine::with_data_text)"),
    });
    drop(engine);

    let mut rego = rego_engine(&[("request.rego", REQUEST_REGO)], &[rego_now(NOW)]);
    let (mut rego, m) = measure(|| {
        rego.add_data_json(&text).expect("the catalog merges");
        rego
    });
    rego.set_input(common::rego_value(&req));
    let decision = common::rego_json(
        &rego
            .eval_rule(common::GATEWAY_ENTRY.to_string())
            .expect("evaluates"),
    );
    assert_eq!(decision["allow"], json!(true), "regorus decides request()");
    rows.push(Row {
        what: what.clone(),
        engine: "regorus",
        m,
        note: format!("{text_note}: Engine::add_data_json"),
    });
    drop(rego);

    let mut cedar = CedarGateway::without_entities();
    let (entities, m) = measure(|| {
        let data: Json = serde_json::from_str(&text).expect("JSON");
        cedar.entities_of(&data)
    });
    let count = entities.iter().count();
    cedar.entities = entities;
    assert!(cedar.decide(&req, NOW).0, "cedar decides request()");
    rows.push(Row {
        what: what.clone(),
        engine: "cedar",
        m,
        note: format!(
            "{text_note}: serde_json::from_str, the entity JSON of peers/README.md, Entities::from_json_value with the schema; {count} entities"
        ),
    });
    drop(cedar);

    print_table(&rows);
    write_json(&rows, quick);
}

fn print_table(rows: &[Row]) {
    println!(
        "\n{:<44} {:<13} {:>9} {:>12} {:>12}",
        "what", "engine", "time", "peak", "held"
    );
    for r in rows {
        println!(
            "{:<44} {:<13} {:>7.2} s {:>12} {:>12}",
            r.what,
            r.engine,
            r.m.seconds,
            mb(r.m.peak),
            mb(r.m.held)
        );
    }
    for r in rows {
        println!("  {} / {}: {}", r.what, r.engine, r.note);
    }
}

fn write_json(rows: &[Row], quick: bool) {
    let json: Vec<Json> = rows
        .iter()
        .map(|r| {
            json!({
                "what": r.what,
                "engine": r.engine,
                "seconds": r.m.seconds,
                "peak_bytes": r.m.peak,
                "held_bytes": r.m.held,
                "note": r.note,
            })
        })
        .collect();
    common::write_results("memory", quick, &Json::Array(json));
}
