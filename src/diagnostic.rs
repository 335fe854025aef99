//! Diagnostics: every problem aibc finds in a spec, with a stable code, a place and a fix.
//!
//! Codes never change meaning once published (pipelines and docs refer to them); the
//! catalogue below is the single list `docs/diagnostics.md` is generated from.

use std::fmt::Write as _;

use serde::Serialize;

use crate::source::{Sources, Span};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

macro_rules! codes {
    ($( $variant:ident = $code:literal, $sev:ident, $title:literal; )*) => {
        /// The catalogue of diagnostic codes.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code { $( $variant, )* }

        impl Code {
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )* ];
            /// The stable identifier, e.g. `AIB003`.
            pub fn id(self) -> &'static str { match self { $( Code::$variant => $code, )* } }
            pub fn default_severity(self) -> Severity { match self { $( Code::$variant => Severity::$sev, )* } }
            /// One line on what the code means, for the docs.
            pub fn title(self) -> &'static str { match self { $( Code::$variant => $title, )* } }
        }
    };
}

codes! {
    Syntax = "AIB001", Error, "The file is not valid YAML or JSON, or is larger or deeper than a spec may be.";
    DuplicateKey = "AIB002", Error, "A key appears twice in the same mapping.";
    UnknownKey = "AIB003", Error, "A key the spec format does not have (often a misspelling).";
    WrongType = "AIB004", Error, "A value of the wrong type (a list where a string belongs, and so on).";
    MissingKey = "AIB005", Error, "A required key is missing.";
    NotAllowed = "AIB006", Error, "A value that is not one of the allowed values.";
    OutOfRange = "AIB007", Error, "A number or a list length outside the range the API accepts.";
    OneOf = "AIB008", Error, "Exactly one of several keys must be given.";
    TemplateName = "AIB101", Error, "The image name cannot name an image template.";
    StorageAccountName = "AIB102", Error, "Storage account names are 3-24 lowercase letters and digits.";
    GalleryName = "AIB103", Error, "Compute Gallery names are letters, digits, periods and underscores.";
    ImageDefinitionName = "AIB104", Error, "Image definition names are letters, digits, hyphens, periods and underscores.";
    RunOutputName = "AIB105", Error, "runOutputName must match ^[A-Za-z0-9-_.]{1,64}$.";
    IdentityName = "AIB106", Error, "User-assigned identity names are 3-128 letters, digits, hyphens and underscores.";
    ContainerName = "AIB107", Error, "Blob container names are 3-63 lowercase letters, digits and single hyphens.";
    ManagedImageName = "AIB108", Error, "Managed image names are 1-80 letters, digits, underscores, periods and hyphens.";
    ResourceId = "AIB109", Error, "A resource ID that is malformed or names the wrong resource type.";
    ResourceGroupName = "AIB110", Error, "Resource group names are 1-90 letters, digits, periods, underscores, hyphens and parentheses.";
    ImageVersion = "AIB201", Error, "Gallery image versions are Major.Minor.Patch with 32-bit integer parts.";
    Region = "AIB202", Error, "Not the name of an Azure region.";
    PlatformImage = "AIB203", Error, "A platform image is publisher:offer:sku[:version].";
    Sha256 = "AIB204", Error, "A SHA-256 checksum is 64 hexadecimal digits.";
    Uri = "AIB205", Error, "A remote script or file must be an absolute https URL.";
    Duration = "AIB206", Error, "A restart timeout is a number with a unit: 90s, 10m, 1h.";
    VmSize = "AIB207", Warning, "The VM size does not look like an Azure VM size name.";
    Subnet = "AIB208", Error, "Build subnets: the container-instance subnet must share the build subnet's network, and excludes a proxy VM.";
    AssignRoles = "AIB209", Error, "`identity.assignRoles: false` needs an existing identity.";
    ExternalRights = "AIB210", Warning, "The identity's rights are managed elsewhere: the rights it must hold.";
    WindowsOnly = "AIB301", Error, "A Windows-only customizer in a Linux image.";
    LinuxOnly = "AIB302", Error, "A Linux-only customizer in a Windows image.";
    RelativeDestination = "AIB303", Error, "A File customizer destination must be an absolute path on the build VM.";
    MissingFile = "AIB304", Error, "A local script or file that does not exist.";
    ScriptSource = "AIB305", Error, "A script step needs exactly one of `inline` and `script`.";
    RunAsSystem = "AIB306", Error, "runAsSystem only takes effect together with runElevated.";
    SourceValidationOnly = "AIB307", Error, "sourceOnly validation runs no build, so the image cannot have customize steps.";
    StepArtifacts = "AIB308", Error, "A step's `artifacts` are local files, read by an `inline` script with the build VM's identity.";
    DuplicateRunOutputName = "AIB401", Error, "Two distributions have the same runOutputName.";
    NoGallery = "AIB402", Error, "A gallery distribution needs a `gallery` (or an image definition ID).";
    SecurityType = "AIB403", Error, "A security type / Hyper-V generation / architecture combination the gallery rejects.";
    Trigger = "AIB404", Error, "A source-image trigger needs a source that can publish new versions.";
    DuplicateRegion = "AIB405", Error, "A target region is listed twice.";
    ImageIdentifier = "AIB406", Error, "A new image definition needs publisher, offer and sku.";
    FixedVersion = "AIB407", Warning, "A fixed image version with a trigger or auto-run fails on the second build.";
    GalleryRegion = "AIB408", Error, "The region of a gallery the spec creates must be one of its target regions.";
    VhdDestination = "AIB409", Warning, "A VHD `uri` without its storage account: aibc cannot let AIB write there, so the build fails unless the identity already may.";
    UnknownParameter = "AIB501", Error, "A `${params.NAME}` reference to a parameter that is not declared.";
    ParameterValue = "AIB502", Error, "A parameter's default does not fit its type or allowed values.";
    UnusedParameter = "AIB503", Warning, "A declared parameter that nothing uses.";
    ParameterNotAllowed = "AIB504", Error, "A value that must be known at compile time uses a parameter.";
    ReservedParameter = "AIB505", Error, "A spec parameter with the name of a parameter aibc generates would silently replace it.";
    Switch = "AIB506", Error, "A distribution's `enabled` is true, false or `${params.NAME}` of a bool parameter.";
    UnknownEntry = "AIB601", Error, "`use:` names no entry of the customization library.";
    EntryParameter = "AIB602", Error, "A `with:` key the library entry does not have.";
    EntryValue = "AIB603", Error, "A `with:` value of the wrong type, or not one of the entry's allowed values.";
    EntryMissing = "AIB604", Error, "A required parameter of the library entry is not given.";
    EntryOs = "AIB605", Error, "A library entry for the other operating system.";
    SecretIdentity = "AIB606", Error, "A secret parameter needs a build VM identity (`build.vmIdentities`) to read Key Vault.";
    LibraryManifest = "AIB607", Error, "A problem in a customization library entry (manifest or files).";
    ImportUnsupported = "AIB701", Warning, "Import: a setting or part of the template with no AIB counterpart; it is left out of the spec.";
    ImportDoneByAib = "AIB702", Warning, "Import: a step or setting AIB does itself (generalizing, connecting, signing in); it is left out.";
    ImportPlaceholder = "AIB703", Warning, "Import: a documentation placeholder such as `<region>` became a required spec parameter named after it.";
    ImportCompileTime = "AIB704", Warning, "Import: a deploy-time value where the spec needs one known when compiling; its default (or the known value) is written instead.";
    ImportInvalid = "AIB705", Error, "Import: the input is not a template aibc can import (no image template, no source, no distribution, a malformed value).";
    ImportChanged = "AIB706", Warning, "Import: imported with a change in form or meaning that the spec makes necessary.";
    ImportOs = "AIB707", Warning, "Import: the template does not say which OS the image is; the spec's `os` is a guess (`--os` sets it).";
    ImportDeployTime = "AIB708", Warning, "Import: a value only known when deploying or building (an expression, an environment variable, a variable left empty) became a required spec parameter.";
    ImportGap = "AIB709", Warning, "Import: a part that could not be imported; the spec has a `# TODO(aibc import)` comment in its place and `aibc import` exits with 8.";
    ImportSource = "AIB710", Error, "Import: the template builds from a source AIB cannot build from (a VHD URL); make a managed image or gallery image version from it first.";
    ImportMissingValue = "AIB711", Error, "Import: a part of the image comes from a template parameter or variable with no value; pass it with `--parameters FILE` (ARM) or `-var`/`-var-file` (Packer).";
    ImportValueFile = "AIB712", Error, "Import: a value given with `--parameters`, `-var` or `-var-file` cannot be used (malformed, not a plain value, or naming nothing the template declares).";
    OutsideRoot = "AIB801", Error, "A local path that resolves (links and `..` followed) outside the spec's folder and `--root`.";
    SpecialFile = "AIB802", Error, "A local path that is a FIFO, device or socket, not a regular file or folder.";
    TooLarge = "AIB803", Error, "A local file or folder over aibc's size limits (256 MiB a file, 1 GiB an artifact, 200,000 files a folder).";
    DuplicateImage = "AIB804", Error, "Two images of a family have the same name (their output folders would collide).";
    Unreadable = "AIB805", Error, "A local file or folder that cannot be read: permissions, a link loop, a name that is not UTF-8.";
}

/// One problem, located.
#[derive(Debug, Clone, PartialEq)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub span: Span,
    pub message: String,
    /// A few words under the caret.
    pub label: Option<String>,
    /// How to fix it.
    pub hint: Option<String>,
}

impl Diagnostic {
    pub fn new(code: Code, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic { code, severity: code.default_severity(), span, message: message.into(), label: None, hint: None }
    }
    pub fn with_hint(mut self, hint: impl Into<String>) -> Diagnostic {
        self.hint = Some(hint.into());
        self
    }
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts by place and drops exact repeats (a family's shared defaults are checked once per
/// image, so the same problem would otherwise be reported once per image).
pub fn normalize(diags: &mut Vec<Diagnostic>) {
    diags.sort_by_key(|d| (d.span.file, d.span.start, d.code));
    diags.dedup_by(|a, b| a.code == b.code && a.span == b.span && a.message == b.message);
}

/// Renders like rustc: header, `-->` location, the source line with a caret, then help.
pub fn render(d: &Diagnostic, sources: &Sources, color: bool) -> String {
    let (red, yellow, blue, bold, reset) =
        if color { ("\x1b[31m", "\x1b[33m", "\x1b[34m", "\x1b[1m", "\x1b[0m") } else { ("", "", "", "", "") };
    let (word, tint) = match d.severity {
        Severity::Error => ("error", red),
        Severity::Warning => ("warning", yellow),
    };
    let mut out = String::new();
    let _ = writeln!(out, "{bold}{tint}{word}[{}]{reset}{bold}: {}{reset}", d.code.id(), d.message);
    let file = sources.get(d.span.file);
    let path = file.map(|f| f.path.display().to_string()).unwrap_or_default();
    let (line, col) = (d.span.start.line.max(1), d.span.start.col.max(1));
    let width = line.to_string().len();
    let pad = " ".repeat(width);
    let _ = writeln!(out, "{pad}{blue}-->{reset} {path}:{line}:{col}");
    if let Some(text) = file.and_then(|f| f.line(line)) {
        let end = if d.span.end.line == line && d.span.end.col > col { d.span.end.col } else { u32::MAX };
        let (shown, caret_at, carets) = clip(text, col, end);
        let _ = writeln!(out, "{pad} {blue}|{reset}");
        let _ = writeln!(out, "{blue}{line} |{reset} {shown}");
        let label = d.label.as_deref().map(|l| format!(" {l}")).unwrap_or_default();
        let _ =
            writeln!(out, "{pad} {blue}|{reset} {}{tint}{}{label}{reset}", " ".repeat(caret_at), "^".repeat(carets));
    }
    if let Some(hint) = &d.hint {
        let _ = writeln!(out, "{pad} {blue}={reset} {bold}help{reset}: {hint}");
    }
    out
}

/// Most characters of a source line shown; a longer line (a minified JSON spec, a 50 MB
/// line) is cut to a window around the span, marked with `…` where it was cut.
const MAX_SHOWN: usize = 160;
/// Characters kept before the span in a cut line.
const CONTEXT_BEFORE: usize = 40;

/// The line as shown (tabs as spaces, clipped around the span), where the caret starts in
/// it (characters) and how many carets. `col`/`end` are 1-based; `end` is exclusive and
/// may be `u32::MAX` for "to the end of the line".
fn clip(text: &str, col: u32, end: u32) -> (String, usize, usize) {
    let start = col.max(1) as usize - 1;
    // Counting stops early: only whether the line is longer than the window matters.
    let long = text.chars().nth(MAX_SHOWN).is_some();
    let first = if long { start.saturating_sub(CONTEXT_BEFORE) } else { 0 };
    let mut shown = String::new();
    if first > 0 {
        shown.push('…');
    }
    let mut taken = 0usize;
    let mut rest = text.chars().skip(first);
    for c in rest.by_ref().take(MAX_SHOWN) {
        shown.push(if c == '\t' { ' ' } else { c });
        taken += 1;
    }
    let cut_after = long && rest.next().is_some();
    if cut_after {
        shown.push('…');
    }
    let lead = usize::from(first > 0);
    let caret_at = (start - first.min(start)).min(taken) + lead;
    let visible_end = first + taken;
    let span_end = (end as usize).saturating_sub(1).min(visible_end);
    let carets = span_end.saturating_sub(start).max(1);
    (shown, caret_at, carets)
}

/// The machine-readable form (`--format json`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonDiagnostic<'a> {
    pub code: &'static str,
    pub severity: Severity,
    pub message: &'a str,
    pub file: String,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub label: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<&'a str>,
}

impl<'a> JsonDiagnostic<'a> {
    pub fn new(d: &'a Diagnostic, sources: &Sources) -> JsonDiagnostic<'a> {
        JsonDiagnostic {
            code: d.code.id(),
            severity: d.severity,
            message: &d.message,
            file: sources.get(d.span.file).map(|f| f.path.display().to_string()).unwrap_or_default(),
            line: d.span.start.line,
            column: d.span.start.col,
            end_line: d.span.end.line,
            end_column: d.span.end.col,
            label: d.label.as_deref(),
            hint: d.hint.as_deref(),
        }
    }
}

/// "did you mean" for a misspelt word among `candidates` (Jaro-Winkler, case-insensitive).
pub fn suggest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    let lower = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(&lower, &c.to_ascii_lowercase()), c))
        .filter(|(score, _)| *score >= 0.82)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut ids: Vec<_> = Code::ALL.iter().map(|c| c.id()).collect();
        assert!(ids.iter().all(|id| id.len() == 6 && id.starts_with("AIB")));
        ids.sort();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n);
    }

    #[test]
    fn renders_like_rustc() {
        let mut sources = Sources::default();
        let f = sources.add("spec.yaml".into(), "name: x\nbuild:\n  vmSzie: big\n".into());
        let span = Span {
            file: f,
            start: crate::source::Pos { line: 3, col: 3 },
            end: crate::source::Pos { line: 3, col: 9 },
        };
        let d = Diagnostic::new(Code::UnknownKey, span, "unknown key `vmSzie` in `build`")
            .with_label("did you mean `vmSize`?")
            .with_hint("remove it or correct its spelling");
        let text = render(&d, &sources, false);
        assert_eq!(
            text,
            "error[AIB003]: unknown key `vmSzie` in `build`\n --> spec.yaml:3:3\n  |\n3 |   vmSzie: big\n  |   ^^^^^^ did you mean `vmSize`?\n  = help: remove it or correct its spelling\n"
        );
    }

    #[test]
    fn long_lines_are_clipped_around_the_span() {
        let mut sources = Sources::default();
        let line = format!("{}BAD{}", "a".repeat(5_000_000), "b".repeat(5_000_000));
        let f = sources.add("spec.json".into(), line);
        let span = Span {
            file: f,
            start: crate::source::Pos { line: 1, col: 5_000_001 },
            end: crate::source::Pos { line: 1, col: 5_000_004 },
        };
        let d = Diagnostic::new(Code::Syntax, span, "bad");
        let text = render(&d, &sources, false);
        assert!(text.len() < 1_000, "{} bytes", text.len());
        let lines: Vec<&str> = text.lines().collect();
        let shown = lines[3].strip_prefix("1 | ").unwrap();
        let carets = lines[4].strip_prefix("  | ").unwrap();
        assert!(shown.starts_with('…') && shown.ends_with('…'));
        assert_eq!(shown.chars().count(), MAX_SHOWN + 2);
        // The carets sit under `BAD`, counted in characters.
        let at = carets.find('^').unwrap();
        let under: String = shown.chars().skip(at).take(3).collect();
        assert_eq!((under.as_str(), carets.trim()), ("BAD", "^^^"));
    }

    #[test]
    fn short_lines_and_spans_past_the_end_render_whole() {
        assert_eq!(clip("key:\tvalue", 6, u32::MAX), ("key: value".to_string(), 5, 5));
        assert_eq!(clip("", 1, u32::MAX), (String::new(), 0, 1));
        assert_eq!(clip("ab", 9, 12), ("ab".to_string(), 2, 1));
    }

    #[test]
    fn suggestions() {
        assert_eq!(suggest("vmSzie", ["vmSize", "osDiskSizeGB"]), Some("vmSize"));
        assert_eq!(suggest("zzz", ["vmSize"]), None);
    }
}
