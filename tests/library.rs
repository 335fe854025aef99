//! The built-in customization library: every entry is valid, expands from its example to
//! exactly the committed golden expansion, and its PowerShell follows the hygiene rules
//! PSScriptAnalyzer would enforce (shell scripts go through shellcheck in the Python suite).
//! `AIBC_BLESS=1 cargo test --test library` rewrites `tests/golden/library/`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use aibc::library::{self, Library};
use aibc::spec::{Os, Step};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn every_builtin_entry_is_valid() {
    let (sources, problems) = Library::builtin_problems();
    let rendered: Vec<String> = problems.iter().map(|d| aibc::diagnostic::render(d, &sources, false)).collect();
    assert!(problems.is_empty(), "{}", rendered.join("\n"));
    let lib = Library::builtin();
    let folders: Vec<String> = std::fs::read_dir(root().join("customizations"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n != "_lib")
        .collect();
    for f in &folders {
        let entry = lib.get(f).unwrap_or_else(|| panic!("customizations/{f} is not a loaded entry"));
        assert_eq!(&entry.manifest.name, f, "an entry's name is its folder's name");
    }
    assert_eq!(lib.entries().count(), folders.len());
}

/// The expansion of an entry with its example values, as committed files: `steps.json`
/// (the customizers) and each script as the build VM will run it.
fn expansion(entry: &library::Entry) -> BTreeMap<String, String> {
    let lib = Library::builtin();
    let vm_identity = "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-images/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-build-vm";
    let e = library::expand(lib, entry, &entry.manifest.example, None, Some(vm_identity)).expect("the example expands");
    let mut files = BTreeMap::new();
    let mut json = serde_json::to_string_pretty(&e.steps).unwrap();
    json.push('\n');
    files.insert("steps.json".to_string(), json);
    for (i, step) in e.steps.iter().enumerate() {
        let (inline, ext) = match step {
            Step::PowerShell(s) => (s.inline.as_ref(), "ps1"),
            Step::Shell(s) => (s.inline.as_ref(), "sh"),
            _ => (None, ""),
        };
        if let Some(inline) = inline {
            let mut text = inline.lines().join("\n");
            text.push('\n');
            files.insert(format!("step-{}.{ext}", i + 1), text);
        }
    }
    files
}

#[test]
fn every_entry_expands_to_its_golden_expansion() {
    let bless = std::env::var_os("AIBC_BLESS").is_some();
    let golden = root().join("tests/golden/library");
    for entry in Library::builtin().entries() {
        let dir = golden.join(&entry.manifest.name);
        let actual = expansion(entry);
        if bless {
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            for (name, text) in &actual {
                std::fs::write(dir.join(name), text).unwrap();
            }
            continue;
        }
        let mut expected = BTreeMap::new();
        for f in std::fs::read_dir(&dir).unwrap_or_else(|_| panic!("{} missing: AIBC_BLESS=1 to create", dir.display()))
        {
            let p = f.unwrap().path();
            expected
                .insert(p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read_to_string(&p).unwrap());
        }
        pretty_assertions::assert_eq!(expected, actual, "{} (AIBC_BLESS=1 to accept)", entry.manifest.name);
    }
}

#[test]
fn every_entry_compiles_in_a_spec_without_diagnostics() {
    for entry in Library::builtin().entries() {
        let m = &entry.manifest;
        let (os, source) = match m.os {
            Os::Windows => ("windows", "MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest"),
            Os::Linux => ("linux", "Canonical:ubuntu-24_04-lts:server:latest"),
        };
        let with = serde_json::to_string(&m.example).unwrap();
        let secrets = m.parameters.values().any(|p| p.secret);
        let build = if secrets {
            "build:\n  vmIdentities: [/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/id-vm]\n"
        } else {
            ""
        };
        let spec = format!(
            "name: lib-{}\nos: {os}\nsource: {{platform: '{source}'}}\n{build}customize:\n  - use: {}\n    with: {with}\ndistribute: [{{vhd: {{}}}}]\n",
            m.name, m.name
        );
        let dir = scratch(&m.name);
        // File parameters name files relative to the spec: give the example's files.
        for (k, p) in &m.parameters {
            if p.kind == library::ParamKind::File
                && let Some(rel) = m.example.get(k).and_then(|v| v.as_str())
            {
                let f = dir.join(rel);
                std::fs::create_dir_all(f.parent().unwrap()).unwrap();
                std::fs::write(f, b"example payload").unwrap();
            }
        }
        let path = dir.join("image.yaml");
        std::fs::write(&path, &spec).unwrap();
        let doc = aibc::compiler::check_file(&path).unwrap();
        let rendered: Vec<String> =
            doc.diags.iter().map(|d| aibc::diagnostic::render(d, &doc.sources, false)).collect();
        assert!(doc.diags.is_empty(), "{}: {}\n{spec}", m.name, rendered.join("\n"));
        for target in [aibc::compiler::Target::Bicep, aibc::compiler::Target::Arm] {
            let out = aibc::compiler::compile(&doc, "image.yaml", target).unwrap();
            let text: String = out[0].files.iter().map(|f| f.text.as_str()).collect();
            if target == aibc::compiler::Target::Bicep {
                assert!(
                    text.contains(&format!("// library: {} {} (built-in)", m.name, m.version)),
                    "{}: no library comment",
                    m.name
                );
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("aibc-lib-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// PowerShell hygiene (the PSScriptAnalyzer rules that can be checked without
/// PowerShell): stop on errors, no aliases, an explicit exit code.
#[test]
fn powershell_scripts_follow_the_hygiene_rules() {
    const ALIASES: &[&str] = &[
        "%", "?", "ac", "cat", "cd", "chdir", "clc", "clear", "cls", "copy", "cp", "del", "diff", "dir", "echo",
        "erase", "fl", "foreach", "ft", "gc", "gci", "gcm", "gi", "gm", "gp", "gps", "group", "gsv", "gwmi", "iex",
        "ii", "irm", "iwr", "kill", "ls", "man", "md", "measure", "mi", "mount", "move", "mv", "ni", "nv", "popd",
        "ps", "pushd", "pwd", "r", "rd", "ren", "ri", "rm", "rmdir", "sajb", "sc", "select", "set", "sl", "sleep",
        "sort", "sp", "spps", "start", "sv", "tee", "type", "where", "wget", "curl", "write",
    ];
    let mut problems = Vec::new();
    for entry in Library::builtin().entries() {
        for (name, text) in &entry.files {
            if !name.ends_with(".ps1") {
                continue;
            }
            let file = format!("customizations/{}/{name}", entry.manifest.name);
            if !text.contains("$ErrorActionPreference = 'Stop'") {
                problems.push(format!("{file}: does not set $ErrorActionPreference = 'Stop'"));
            }
            if !text.lines().any(|l| l.trim_start().starts_with("exit ")) {
                problems.push(format!("{file}: no explicit `exit <code>`"));
            }
            for (n, line) in text.lines().enumerate() {
                let code = strip_strings(line.split('#').next().unwrap_or(""));
                // Command positions: the start of a statement, or after a pipe or `;`.
                for segment in code.split(['|', ';', '{', '(']) {
                    let mut words = segment.split_whitespace();
                    let word = words.next().unwrap_or("");
                    // `foreach (…)` is the language's loop, not the ForEach-Object alias.
                    let keyword = word.eq_ignore_ascii_case("foreach")
                        && words.next().is_none_or(|w| w.starts_with('('))
                        || word.eq_ignore_ascii_case("foreach(");
                    if !keyword && ALIASES.iter().any(|a| a.eq_ignore_ascii_case(word)) {
                        problems.push(format!("{file}:{}: alias `{word}` (write the full cmdlet name)", n + 1));
                    }
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The line with the contents of '…' and "…" strings blanked, so words inside messages are
/// not taken for commands.
fn strip_strings(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut quote: Option<char> = None;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => {
                quote = None;
                out.push(c);
            }
            Some(_) => out.push(' '),
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                }
                out.push(c);
            }
        }
    }
    out
}

#[test]
fn secrets_never_reach_templates() {
    // An entry with a secret gets the secret's URI and the reader prelude, nothing else.
    let lib = Library::builtin();
    for entry in lib.entries().filter(|e| e.manifest.parameters.values().any(|p| p.secret)) {
        let text = serde_json::to_string(
            &library::expand(lib, entry, &entry.manifest.example, None, Some("/id")).unwrap().steps,
        )
        .unwrap();
        for (k, p) in &entry.manifest.parameters {
            if p.secret {
                let uri = entry.manifest.example[k].as_str().unwrap();
                assert!(text.contains(uri), "{}: the secret URI must be passed", entry.manifest.name);
                assert!(
                    text.contains("aibc_secret") || text.contains("Get-AibcSecret"),
                    "{}: no secret reader",
                    entry.manifest.name
                );
            }
        }
    }
}

#[test]
fn a_team_library_overrides_builtin_entries_and_its_errors_are_located() {
    let dir = scratch("team");
    let lib = dir.join("lib");
    std::fs::create_dir_all(lib.join("time-zone")).unwrap();
    std::fs::create_dir_all(lib.join("broken")).unwrap();
    // Overrides the built-in `time-zone`.
    std::fs::write(
        lib.join("time-zone/manifest.yaml"),
        "name: time-zone\nversion: 9.0.0\ndescription: Team override.\nos: windows\nsteps:\n  - type: PowerShell\n    inline: [\"$ErrorActionPreference = 'Stop'\", 'exit 0']\n",
    )
    .unwrap();
    // Two problems in one manifest: an unknown key and a script that is not there.
    std::fs::write(
        lib.join("broken/manifest.yaml"),
        "name: broken\nversion: 1.0.0\ndescription: x\nos: linux\nrestrat: true\nsteps:\n  - type: Shell\n    script: missing.sh\n",
    )
    .unwrap();
    let spec = dir.join("image.yaml");
    std::fs::write(
        &spec,
        "name: t\nos: windows\nsource: {platform: 'MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest'}\ncustomize:\n  - use: time-zone\ndistribute: [{vhd: {}}]\n",
    )
    .unwrap();
    let options = aibc::compiler::Options { library: Some(lib.clone()), root: None };
    let doc = aibc::compiler::check_file_with(&spec, &options).unwrap();
    let located: Vec<(String, u32, u32, &str)> = doc
        .diags
        .iter()
        .map(|d| {
            let file = doc.sources.get(d.span.file).unwrap().path.strip_prefix(&lib).unwrap().display().to_string();
            (file, d.span.start.line, d.span.start.col, d.code.id())
        })
        .collect();
    assert_eq!(
        located,
        vec![("broken/manifest.yaml".to_string(), 5, 1, "AIB003")],
        "an unknown key stops the manifest before its files are checked"
    );

    // The override needs no `timeZone`, and its version shows in the output.
    let out = aibc::compiler::compile(&doc, "image.yaml", aibc::compiler::Target::Bicep).unwrap();
    let template = out[0].files.iter().find(|f| f.path == "modules/image-template.bicep").unwrap();
    assert!(template.text.contains("// library: time-zone 9.0.0 (library lib)"), "{}", template.text);

    std::fs::write(
        lib.join("broken/manifest.yaml"),
        "name: broken\nversion: 1.0.0\ndescription: x\nos: linux\nsteps:\n  - type: Shell\n    script: missing.sh\n",
    )
    .unwrap();
    let doc = aibc::compiler::check_file_with(&spec, &options).unwrap();
    let codes: Vec<(u32, u32, &str)> =
        doc.diags.iter().map(|d| (d.span.start.line, d.span.start.col, d.code.id())).collect();
    assert_eq!(codes, vec![(7, 13, "AIB607")], "the missing script is reported at `script:` in the manifest");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_folder_is_uploaded_as_a_deterministic_zip() {
    let dir = scratch("folder");
    std::fs::create_dir_all(dir.join("payload/sub")).unwrap();
    std::fs::write(dir.join("payload/a.txt"), "a").unwrap();
    std::fs::write(dir.join("payload/sub/b.txt"), "b").unwrap();
    let spec = dir.join("image.yaml");
    std::fs::write(
        &spec,
        "name: z\nos: linux\nsource: {platform: 'Canonical:ubuntu-24_04-lts:server:latest'}\ncustomize:\n  - {type: File, source: payload, destination: /tmp/payload.zip}\ndistribute: [{vhd: {}}]\n",
    )
    .unwrap();
    let compile = || {
        let doc = aibc::compiler::check_file(&spec).unwrap();
        assert!(doc.diags.is_empty(), "{:?}", doc.diags);
        aibc::compiler::compile(&doc, "image.yaml", aibc::compiler::Target::Bicep).unwrap().remove(0).plan
    };
    let plan = compile();
    let a = &plan.artifacts[0];
    assert!(a.folder && a.blob.ends_with("/payload.zip"), "{a:?}");
    assert_eq!(a.sha256, compile().artifacts[0].sha256, "the same folder gives the same zip");
    std::fs::write(dir.join("payload/sub/b.txt"), "changed").unwrap();
    assert_ne!(a.sha256, compile().artifacts[0].sha256, "a changed file changes the zip");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_single_backslash_before_a_placeholder_is_reported_where_it_is() {
    let dir = scratch("backslash");
    let lib = dir.join("lib");
    std::fs::create_dir_all(lib.join("copy")).unwrap();
    std::fs::write(
        lib.join("copy/manifest.yaml"),
        "name: copy\nversion: 1.0.0\ndescription: x\nos: windows\nparameters:\n  f: {type: string, description: f, default: a.msi}\nsteps:\n  - type: File\n    source: https://example.invalid/a.msi\n    destination: 'C:\\Temp\\{{f}}'\n",
    )
    .unwrap();
    let spec = dir.join("image.yaml");
    std::fs::write(&spec, "name: t\nos: windows\nsource: {platform: 'a:b:c'}\ndistribute: [{vhd: {}}]\n").unwrap();
    let doc =
        aibc::compiler::check_file_with(&spec, &aibc::compiler::Options { library: Some(lib), root: None }).unwrap();
    let codes: Vec<(u32, u32, &str)> =
        doc.diags.iter().map(|d| (d.span.start.line, d.span.start.col, d.code.id())).collect();
    assert_eq!(codes, vec![(10, 18, "AIB607")]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_library_step_runs_as_system_when_asked() {
    let dir = scratch("run-as-system");
    let spec = "name: sys\nos: windows\nsource: {platform: 'MicrosoftWindowsServer:WindowsServer:2022-datacenter-azure-edition:latest'}\ncustomize:\n  - use: defender-update\n    runAsSystem: true\ndistribute: [{vhd: {}}]\n";
    let path = dir.join("image.yaml");
    std::fs::write(&path, spec).unwrap();
    let doc = aibc::compiler::check_file(&path).unwrap();
    let rendered: Vec<String> = doc.diags.iter().map(|d| aibc::diagnostic::render(d, &doc.sources, false)).collect();
    assert!(doc.diags.is_empty(), "{}", rendered.join("\n"));
    let out = aibc::compiler::compile(&doc, "image.yaml", aibc::compiler::Target::Arm).unwrap();
    let arm: serde_json::Value =
        serde_json::from_str(&out[0].files.iter().find(|f| f.path == "azuredeploy.json").unwrap().text).unwrap();
    let mut found = Vec::new();
    collect_customizers(&arm, &mut found);
    let powershell: Vec<&serde_json::Value> = found.iter().filter(|c| c["type"] == "PowerShell").collect();
    assert!(!powershell.is_empty());
    for c in powershell {
        assert_eq!((c["runAsSystem"].as_bool(), c["runElevated"].as_bool()), (Some(true), Some(true)), "{c}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn collect_customizers(v: &serde_json::Value, out: &mut Vec<serde_json::Value>) {
    match v {
        serde_json::Value::Object(m) => {
            if let Some(serde_json::Value::Array(items)) = m.get("customize") {
                out.extend(items.iter().cloned());
            }
            m.values().for_each(|x| collect_customizers(x, out));
        }
        serde_json::Value::Array(items) => items.iter().for_each(|x| collect_customizers(x, out)),
        _ => {}
    }
}
