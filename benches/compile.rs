//! Compile-time benchmarks (`cargo bench --bench compile`).
//!
//! Baseline measured in the same run: reading and parsing the spec into the spanned tree,
//! the least any compiler of this format must do. Targets: a typical spec within 2× of
//! process floor (see scripts/bench.sh for the process-level figure), 1,000 specs < 1 s.

use std::hint::black_box;
use std::path::{Path, PathBuf};

use aibc::compiler::{self, Target};
use aibc::document;
use aibc::loader::{self, Format};
use criterion::{Criterion, criterion_group, criterion_main};

fn example(name: &str) -> (PathBuf, String) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples").join(name).join("image.yaml");
    let text = std::fs::read_to_string(&path).expect("example exists");
    (path, text)
}

fn compile_one(path: &Path, text: &str) -> usize {
    let mut doc = document::load_str(path, text.to_string(), Format::Yaml);
    compiler::check(&mut doc);
    assert!(!doc.has_errors());
    let out = compiler::compile(&doc, "image.yaml", Target::Bicep).expect("compiles");
    out.iter().map(|c| c.files.iter().map(|f| f.text.len()).sum::<usize>()).sum()
}

fn benches(c: &mut Criterion) {
    let (path, _) = example("windows-2022-iis");
    let mut g = c.benchmark_group("typical spec");
    g.bench_function("baseline: read + parse", |b| {
        b.iter(|| {
            let text = std::fs::read_to_string(&path).unwrap();
            black_box(loader::parse(0, &text, Format::Yaml))
        })
    });
    g.bench_function("compile to Bicep", |b| {
        b.iter(|| {
            let text = std::fs::read_to_string(&path).unwrap();
            black_box(compile_one(&path, &text))
        })
    });
    g.finish();

    // 1,000 distinct specs: every example, renamed, in turn.
    let names = [
        "ubuntu-2404-apt",
        "windows-2022-iis",
        "avd-win11-multisession",
        "from-gallery-version",
        "private-subnet",
        "multi-distribution",
    ];
    let sources: Vec<(PathBuf, String)> = names.iter().map(|n| example(n)).collect();
    let specs: Vec<(PathBuf, String)> = (0..1000)
        .map(|i| {
            let (p, t) = &sources[i % sources.len()];
            let renamed = t.replacen("\nname: ", &format!("\nname: n{i}-"), 1);
            (p.clone(), renamed)
        })
        .collect();
    let mut g = c.benchmark_group("1000 specs");
    g.sample_size(10);
    g.bench_function("compile 1000 specs to Bicep", |b| {
        b.iter(|| specs.iter().map(|(p, t)| compile_one(p, t)).sum::<usize>())
    });
    g.finish();
}

criterion_group!(compile, benches);
criterion_main!(compile);
