//! The configuration file (`gsms-emulator --config FILE`): TOML, or JSON when the name ends in
//! `.json`, with the same keys. Every key is optional; a key that is absent keeps the value it
//! had (the binary's defaults, or what a flag set). `emulator/gsms-emulator.example.toml` is a
//! documented example, and `gsms-emulator --print-config` prints any effective configuration
//! in this form.
//!
//! Errors name the file, the line and column, and the field (`titles[0].servers[1].command`),
//! and are found before anything starts: unknown keys, wrong types, values out of range,
//! unknown placeholders in commands, a server with both `address` and `command`, repeated
//! titles or regions, a variants or TLS file that cannot be read. Relative paths (`tls`,
//! `variants_file`, `cwd`) are relative to the file's folder.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

use crate::service::calls::variants::{catalogue_json, parse_catalogue};
use crate::service::faults::copy_fault_fields;
use crate::{
    CommandConfig, CommandLine, Config, ErrorBodyStyle, FaultRule, LogFormat, PortMapping, PortValue, RateLimit,
    Readiness, RegionConfig, ServerConfig, ServerKind, TitleConfig, TlsConfig, VariantCatalogue,
};

thread_local! {
    /// The folder of the file being read: relative paths in it are relative to it.
    static BASE_DIR: RefCell<PathBuf> = RefCell::new(PathBuf::new());
}

fn resolve(p: &Path) -> PathBuf {
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        BASE_DIR.with(|b| b.borrow().join(p))
    }
}

/// Why a configuration file cannot be used: where, and what.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, when known.
    pub line: Option<usize>,
    /// 1-based column, when known.
    pub column: Option<usize>,
    /// The field, as a path (`titles[0].servers[1].command`), when the error is about one.
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
            if let Some(c) = self.column {
                write!(f, ":{c}")?;
            }
        }
        match &self.field {
            Some(field) => write!(f, ": field `{field}`: {}", self.message),
            None => write!(f, ": {}", self.message),
        }
    }
}

impl std::error::Error for ConfigError {}

/// A configuration file, read and checked.
#[derive(Clone, Debug)]
pub struct ConfigFile {
    path: PathBuf,
    doc: Doc,
}

impl ConfigFile {
    /// Reads and checks a file (TOML, or JSON when its name ends in `.json`).
    pub fn load(path: impl AsRef<Path>) -> Result<ConfigFile, ConfigError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|e| ConfigError {
            file: path.to_path_buf(),
            line: None,
            column: None,
            field: None,
            message: format!("cannot read it: {e}"),
        })?;
        ConfigFile::parse(&text, path)
    }

    /// Checks a file's text; `path` names it in errors, picks the format and is where relative
    /// paths start from.
    pub fn parse(text: &str, path: impl AsRef<Path>) -> Result<ConfigFile, ConfigError> {
        let path = path.as_ref().to_path_buf();
        let json = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"));
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        BASE_DIR.with(|b| *b.borrow_mut() = dir);
        let error = |line: Option<usize>, column: Option<usize>, field: Option<String>, message: String| ConfigError {
            file: path.clone(),
            line,
            column,
            field,
            message,
        };
        let field_of = |p: &serde_path_to_error::Path| {
            let s = p.to_string();
            (s != "." && !s.is_empty()).then_some(s)
        };
        let doc: Doc = if json {
            let mut de = serde_json::Deserializer::from_str(text);
            let doc = serde_path_to_error::deserialize(&mut de)
                .map_err(|e| {
                    let field = field_of(e.path());
                    let inner = e.into_inner();
                    let msg = strip_position(&inner.to_string());
                    error(Some(inner.line()), Some(inner.column()), field, msg)
                })
                .and_then(|doc| {
                    de.end()
                        .map_err(|e| error(Some(e.line()), Some(e.column()), None, strip_position(&e.to_string())))?;
                    Ok(doc)
                })?;
            doc
        } else {
            let de = toml::Deserializer::parse(text).map_err(|e| {
                let (line, column) = line_col(text, e.span());
                error(line, column, None, e.message().to_string())
            })?;
            serde_path_to_error::deserialize(de).map_err(|e| {
                let field = field_of(e.path());
                let inner = e.into_inner();
                let (line, column) = line_col(text, inner.span());
                error(line, column, field, inner.message().to_string())
            })?
        };
        BASE_DIR.with(|b| b.borrow_mut().clear());
        if doc.variants.is_some() && doc.variants_file.is_some() {
            let line = key_line(text, "variants_file", json);
            return Err(error(
                line,
                None,
                Some("variants_file".into()),
                "give variants or variants_file, not both".into(),
            ));
        }
        if let (Some(region), Some(regions)) = (&doc.region, &doc.regions) {
            if !regions.is_empty() && !regions.iter().any(|r| r.0.name.eq_ignore_ascii_case(region)) {
                let line = key_line(text, "region", json);
                let names: Vec<&str> = regions.iter().map(|r| r.0.name.as_str()).collect();
                let msg = format!("region {region:?} is not one of the regions ({})", names.join(", "));
                return Err(error(line, None, Some("region".into()), msg));
            }
        }
        Ok(ConfigFile { path, doc })
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The TLS certificate and key files it names, if any.
    pub fn tls_files(&self) -> Option<(PathBuf, PathBuf)> {
        self.doc.tls.as_ref().map(|t| (t.fields.cert.clone(), t.fields.key.clone()))
    }

    /// Sets what the file sets, leaving the rest of `cfg` as it is. When the file lists
    /// regions and names no `region`, the first region is the region of answers.
    pub fn apply_to(&self, cfg: &mut Config) {
        let d = &self.doc;
        macro_rules! set {
            ($field:ident) => {
                if let Some(v) = &d.$field {
                    cfg.$field = v.clone();
                }
            };
        }
        set!(bind);
        set!(host_name);
        set!(allowed_titles);
        set!(servers_per_title);
        set!(session_hosts_per_title);
        set!(poll_interval_ms);
        set!(poll_interval_as_number);
        set!(titles_without_subscriptions);
        set!(udp_echo);
        set!(qos_pending_limit);
        set!(quirks);
        set!(quirks_seed);
        set!(quirks_omit_optional);
        set!(revoked_tokens);
        if let Some(s) = d.server_lifetime_secs {
            cfg.server_lifetime = Duration::from_secs_f64(s.0);
        }
        if let Some(ms) = d.session_host_activation_ms {
            cfg.session_host_activation = Duration::from_millis(ms);
        }
        if let Some(style) = d.error_body {
            cfg.error_body_style = style.into();
        }
        if let Some(limit) = &d.rate_limit {
            cfg.rate_limit = Some(limit.0.into());
        }
        if let Some(log) = d.log {
            (cfg.log, cfg.log_format) = match log {
                LogName::Human => (true, LogFormat::Human),
                LogName::Json => (true, LogFormat::Json),
                LogName::Off => (false, cfg.log_format),
            };
        }
        if let Some(tls) = &d.tls {
            cfg.tls = Some(tls.pem.clone());
        }
        if let Some(v) = &d.variants_file {
            cfg.variants = v.catalogue.clone();
        }
        if let Some(v) = &d.variants {
            cfg.variants = v.0.clone();
        }
        if let Some(ports) = &d.port_mappings {
            cfg.port_mappings = ports.iter().map(|p| p.0.clone()).collect();
        }
        if let Some(regions) = &d.regions {
            cfg.regions = regions.iter().map(|r| r.0.region()).collect();
            if let Some(first) = cfg.regions.first() {
                cfg.region = first.name.clone();
            }
        }
        if let Some(region) = &d.region {
            cfg.region = cfg
                .regions
                .iter()
                .find(|r| r.name.eq_ignore_ascii_case(region))
                .map_or_else(|| region.clone(), |r| r.name.clone());
        }
        if let Some(faults) = &d.faults {
            cfg.faults = faults.iter().map(|f| f.0.rule()).collect();
        }
        if let Some(titles) = &d.titles {
            cfg.titles = titles.iter().map(TitleFields::title).collect();
        }
    }
}

/// The effective configuration in the file's form (TOML), as `--print-config` prints it:
/// reading it back gives the same configuration. TLS material is named by `tls_files` (the
/// configuration holds only its bytes); without them, a configuration with TLS is an error.
pub fn config_to_toml(cfg: &Config, tls_files: Option<(&Path, &Path)>) -> Result<String, String> {
    let doc = Doc::from_config(cfg, tls_files)?;
    toml::to_string_pretty(&doc).map_err(|e| format!("cannot write the configuration as TOML: {e}"))
}

/// The same in JSON.
pub fn config_to_json(cfg: &Config, tls_files: Option<(&Path, &Path)>) -> Result<String, String> {
    let doc = Doc::from_config(cfg, tls_files)?;
    serde_json::to_string_pretty(&doc).map_err(|e| format!("cannot write the configuration as JSON: {e}"))
}

/// serde_json's messages end in " at line L column C", which the error says apart.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg.to_string(),
    }
}

fn line_col(text: &str, span: Option<std::ops::Range<usize>>) -> (Option<usize>, Option<usize>) {
    let Some(span) = span else {
        return (None, None);
    };
    let at = span.start.min(text.len());
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (Some(line), Some(column))
}

/// The line of a top-level key (for checks across keys).
fn key_line(text: &str, key: &str, json: bool) -> Option<usize> {
    text.lines()
        .position(|l| {
            let l = l.trim_start();
            if json {
                l.starts_with(&format!("\"{key}\""))
            } else {
                l.strip_prefix(key).is_some_and(|rest| rest.trim_start().starts_with('='))
            }
        })
        .map(|i| i + 1)
}

// ----- the document -----

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Doc {
    #[serde(skip_serializing_if = "Option::is_none")]
    bind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    host_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    region: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    allowed_titles: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    servers_per_title: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_hosts_per_title: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_lifetime_secs: Option<Seconds>,
    #[serde(skip_serializing_if = "Option::is_none")]
    poll_interval_ms: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    poll_interval_as_number: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_host_activation_ms: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    titles_without_subscriptions: Option<Vec<u32>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    udp_echo: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error_body: Option<ErrorBodyName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    qos_pending_limit: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quirks: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quirks_seed: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    quirks_omit_optional: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    revoked_tokens: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    log: Option<LogName>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variants_file: Option<VariantsFile>,
    #[serde(skip_serializing_if = "Option::is_none")]
    rate_limit: Option<Checked<RateLimitFields>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tls: Option<TlsEntry>,
    #[serde(skip_serializing_if = "Option::is_none")]
    port_mappings: Option<Vec<PortMappingEntry>>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "unique_regions")]
    regions: Option<Vec<Checked<RegionFields>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    faults: Option<Vec<Checked<FaultFields>>>,
    #[serde(skip_serializing_if = "Option::is_none", deserialize_with = "unique_titles")]
    titles: Option<Vec<TitleFields>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    variants: Option<VariantsInline>,
}

impl Doc {
    fn from_config(cfg: &Config, tls_files: Option<(&Path, &Path)>) -> Result<Doc, String> {
        let tls = match (&cfg.tls, tls_files) {
            (None, _) => None,
            (Some(pem), Some((cert, key))) => Some(TlsEntry {
                fields: TlsFields { cert: cert.to_path_buf(), key: key.to_path_buf() },
                pem: pem.clone(),
            }),
            (Some(_), None) => return Err("the configuration has TLS material but no file names for it".into()),
        };
        let (log, _) = match (cfg.log, cfg.log_format) {
            (false, f) => (LogName::Off, f),
            (true, LogFormat::Human) => (LogName::Human, LogFormat::Human),
            (true, LogFormat::Json) => (LogName::Json, LogFormat::Json),
        };
        Ok(Doc {
            bind: Some(cfg.bind.clone()),
            host_name: Some(cfg.host_name.clone()),
            region: Some(cfg.region.clone()),
            allowed_titles: Some(cfg.allowed_titles.clone()),
            servers_per_title: Some(cfg.servers_per_title),
            session_hosts_per_title: Some(cfg.session_hosts_per_title),
            server_lifetime_secs: Some(Seconds(cfg.server_lifetime.as_secs_f64())),
            poll_interval_ms: Some(cfg.poll_interval_ms),
            poll_interval_as_number: Some(cfg.poll_interval_as_number),
            session_host_activation_ms: Some(cfg.session_host_activation.as_millis() as u64),
            titles_without_subscriptions: Some(cfg.titles_without_subscriptions.clone()),
            udp_echo: Some(cfg.udp_echo),
            error_body: Some(cfg.error_body_style.into()),
            qos_pending_limit: Some(cfg.qos_pending_limit),
            quirks: Some(cfg.quirks),
            quirks_seed: Some(cfg.quirks_seed),
            quirks_omit_optional: Some(cfg.quirks_omit_optional),
            revoked_tokens: Some(cfg.revoked_tokens.clone()),
            log: Some(log),
            variants_file: None,
            rate_limit: cfg.rate_limit.map(|l| Checked(l.into())),
            tls,
            port_mappings: Some(cfg.port_mappings.iter().cloned().map(PortMappingEntry).collect()),
            regions: Some(cfg.regions.iter().map(|r| Checked(r.into())).collect()),
            faults: Some(cfg.faults.iter().map(|f| Checked(f.into())).collect()),
            titles: Some(cfg.titles.iter().map(TitleFields::from_title).collect()),
            variants: Some(VariantsInline(cfg.variants.clone())),
        })
    }
}

fn unique_regions<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Checked<RegionFields>>>, D::Error> {
    let regions = Vec::<Checked<RegionFields>>::deserialize(d)?;
    for (i, r) in regions.iter().enumerate() {
        if regions[..i].iter().any(|o| o.0.name.eq_ignore_ascii_case(&r.0.name)) {
            return Err(de::Error::custom(format!("region {:?} is listed twice", r.0.name)));
        }
    }
    Ok(Some(regions))
}

fn unique_titles<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<TitleFields>>, D::Error> {
    let titles = Vec::<TitleFields>::deserialize(d)?;
    for (i, t) in titles.iter().enumerate() {
        if titles[..i].iter().any(|o| o.id == t.id) {
            return Err(de::Error::custom(format!("title {} is listed twice", t.id)));
        }
    }
    Ok(Some(titles))
}

/// Reads `F`, then checks it into `T`; the check runs inside the deserializer's value, so that
/// its error carries the value's position (toml puts none on errors raised after a value).
fn checked<'de, D, F, T>(d: D, check: fn(F) -> Result<T, String>) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: Deserialize<'de>,
{
    struct V<F, T>(fn(F) -> Result<T, String>, std::marker::PhantomData<F>);
    impl<'de, F: Deserialize<'de>, T> Visitor<'de> for V<F, T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a table")
        }
        fn visit_newtype_struct<D2: Deserializer<'de>>(self, d: D2) -> Result<T, D2::Error> {
            (self.0)(F::deserialize(d)?).map_err(de::Error::custom)
        }
    }
    d.deserialize_newtype_struct("checked", V(check, std::marker::PhantomData))
}

// ----- checked scalars -----

/// Seconds, 0 ..= 10 years.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
struct Seconds(f64);

impl TryFrom<f64> for Seconds {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v.is_finite() && (0.0..=315_360_000.0).contains(&v) {
            Ok(Seconds(v))
        } else {
            Err(format!("{v} is not a number of seconds (0 to 315360000)"))
        }
    }
}

impl From<Seconds> for f64 {
    fn from(s: Seconds) -> f64 {
        s.0
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum ErrorBodyName {
    Description,
    ErrorCode,
}

impl From<ErrorBodyName> for ErrorBodyStyle {
    fn from(n: ErrorBodyName) -> Self {
        match n {
            ErrorBodyName::Description => ErrorBodyStyle::Description,
            ErrorBodyName::ErrorCode => ErrorBodyStyle::ErrorCode,
        }
    }
}

impl From<ErrorBodyStyle> for ErrorBodyName {
    fn from(s: ErrorBodyStyle) -> Self {
        match s {
            ErrorBodyStyle::Description => ErrorBodyName::Description,
            ErrorBodyStyle::ErrorCode => ErrorBodyName::ErrorCode,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
enum LogName {
    Human,
    Json,
    Off,
}

// ----- checked tables: raw fields, then a checked wrapper -----

#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RateLimitFields {
    max_requests: u32,
    period_secs: f64,
}

impl Check for RateLimitFields {
    fn check(self) -> Result<Self, String> {
        if self.max_requests == 0 {
            return Err("max_requests must be at least 1".into());
        }
        if !self.period_secs.is_finite() || self.period_secs <= 0.0 || self.period_secs > 86_400.0 {
            return Err(format!("period_secs {} is not in (0, 86400]", self.period_secs));
        }
        Ok(self)
    }
}

impl From<RateLimitFields> for RateLimit {
    fn from(f: RateLimitFields) -> Self {
        RateLimit { max_requests: f.max_requests, period: Duration::from_secs_f64(f.period_secs) }
    }
}

impl From<RateLimit> for RateLimitFields {
    fn from(l: RateLimit) -> Self {
        RateLimitFields { max_requests: l.max_requests, period_secs: l.period.as_secs_f64() }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFields {
    cert: PathBuf,
    key: PathBuf,
}

#[derive(Clone, Debug, Serialize)]
#[serde(into = "TlsFields")]
struct TlsEntry {
    fields: TlsFields,
    pem: TlsConfig,
}

impl TryFrom<TlsFields> for TlsEntry {
    type Error = String;
    fn try_from(f: TlsFields) -> Result<Self, String> {
        let (cert, key) = (resolve(&f.cert), resolve(&f.key));
        let read =
            |p: &Path, what: &str| std::fs::read(p).map_err(|e| format!("cannot read the {what} {}: {e}", p.display()));
        let pem = TlsConfig { cert_pem: read(&cert, "certificate")?, key_pem: read(&key, "key")? };
        Ok(TlsEntry { fields: TlsFields { cert, key }, pem })
    }
}

impl From<TlsEntry> for TlsFields {
    fn from(e: TlsEntry) -> Self {
        e.fields
    }
}

/// `variants_file`: a JSON catalogue in the variants answer's form.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "PathBuf", into = "PathBuf")]
struct VariantsFile {
    path: PathBuf,
    catalogue: VariantCatalogue,
}

impl TryFrom<PathBuf> for VariantsFile {
    type Error = String;
    fn try_from(p: PathBuf) -> Result<Self, String> {
        let path = resolve(&p);
        let bytes = std::fs::read(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let catalogue = parse_catalogue(&bytes).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(VariantsFile { path, catalogue })
    }
}

impl From<VariantsFile> for PathBuf {
    fn from(v: VariantsFile) -> Self {
        v.path
    }
}

/// `variants`: the catalogue inline, in the variants answer's form.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(try_from = "Value", into = "Value")]
struct VariantsInline(VariantCatalogue);

impl TryFrom<Value> for VariantsInline {
    type Error = String;
    fn try_from(v: Value) -> Result<Self, String> {
        parse_catalogue(v.to_string().as_bytes()).map(VariantsInline)
    }
}

impl From<VariantsInline> for Value {
    fn from(v: VariantsInline) -> Value {
        catalogue_json(v.0.variants.iter(), &v.0).to_value()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RegionFields {
    name: String,
    #[serde(default)]
    delay_ms: f64,
    #[serde(default)]
    jitter_ms: f64,
    #[serde(default)]
    loss: f64,
}

impl RegionFields {
    fn region(&self) -> RegionConfig {
        RegionConfig { name: self.name.clone(), delay_ms: self.delay_ms, jitter_ms: self.jitter_ms, loss: self.loss }
    }
}

impl From<&RegionConfig> for RegionFields {
    fn from(r: &RegionConfig) -> Self {
        RegionFields { name: r.name.clone(), delay_ms: r.delay_ms, jitter_ms: r.jitter_ms, loss: r.loss }
    }
}

impl Check for RegionFields {
    fn check(self) -> Result<Self, String> {
        self.region().check()?;
        Ok(self)
    }
}

fn one() -> f64 {
    1.0
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FaultFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    retry_after: Option<String>,
    #[serde(default)]
    latency_ms: u64,
    #[serde(default)]
    drop_connection: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    times: Option<u32>,
    #[serde(default = "one")]
    probability: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    call: Option<String>,
}

impl FaultFields {
    fn rule(&self) -> FaultRule {
        copy_fault_fields!(FaultRule, self)
    }
}

impl From<&FaultRule> for FaultFields {
    fn from(r: &FaultRule) -> Self {
        copy_fault_fields!(FaultFields, r)
    }
}

impl Check for FaultFields {
    fn check(self) -> Result<Self, String> {
        self.rule().check()?;
        Ok(self)
    }
}

/// A port: a number, or `"{port}"` (the server's port).
#[derive(Clone, Copy, Debug, PartialEq)]
struct PortField(PortValue);

impl Serialize for PortField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            PortValue::Fixed(p) => s.serialize_u16(p),
            PortValue::ServerPort => s.serialize_str("{port}"),
        }
    }
}

impl<'de> Deserialize<'de> for PortField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = PortField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port number (1-65535) or \"{port}\"")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<PortField, E> {
                match u16::try_from(v) {
                    Ok(p) if p > 0 => Ok(PortField(PortValue::Fixed(p))),
                    _ => Err(E::custom(format!("port {v} is not in 1-65535"))),
                }
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortField, E> {
                self.visit_i64(i64::try_from(v).unwrap_or(i64::MAX))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<PortField, E> {
                if v == "{port}" {
                    Ok(PortField(PortValue::ServerPort))
                } else {
                    Err(E::custom(format!("{v:?} is not a port: expected a number or \"{{port}}\"")))
                }
            }
        }
        d.deserialize_any(V)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct PortMappingFields {
    name: String,
    internal: PortField,
    external: PortField,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(into = "PortMappingFields")]
struct PortMappingEntry(PortMapping);

impl TryFrom<PortMappingFields> for PortMappingEntry {
    type Error = String;
    fn try_from(f: PortMappingFields) -> Result<Self, String> {
        if f.name.is_empty() || f.name.chars().any(|c| c.is_control()) {
            return Err("a port mapping's name must be non-empty text".into());
        }
        Ok(PortMappingEntry(PortMapping::new(f.name, f.internal.0, f.external.0)))
    }
}

impl From<PortMappingEntry> for PortMappingFields {
    fn from(e: PortMappingEntry) -> Self {
        PortMappingFields { name: e.0.name, internal: PortField(e.0.internal), external: PortField(e.0.external) }
    }
}

/// A command: an array (program and arguments, no shell) or a string (a shell command line).
#[derive(Clone, Debug, PartialEq)]
struct CommandField(CommandLine);

impl Serialize for CommandField {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.0 {
            CommandLine::Argv(a) => a.serialize(s),
            CommandLine::Shell(line) => s.serialize_str(line),
        }
    }
}

impl<'de> Deserialize<'de> for CommandField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = CommandField;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of strings (program and arguments) or a string (a shell command line)")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<CommandField, E> {
                Ok(CommandField(CommandLine::Shell(v.to_string())))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<CommandField, A::Error> {
                let mut argv = Vec::new();
                while let Some(s) = seq.next_element::<String>()? {
                    argv.push(s);
                }
                Ok(CommandField(CommandLine::Argv(argv)))
            }
        }
        d.deserialize_any(V)
    }
}

/// One entry of a pool: simulated (neither `address` nor `command`), a fixed `address`, or a
/// `command`; `count` repeats it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct ServerFields {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    count: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    address: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    command: Option<CommandField>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    cwd: Option<PathBuf>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    env: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ready_line: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ready_after_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ready_timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    stop_timeout_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    ports: Option<Vec<PortMappingEntry>>,
}

/// `host:port` or `[v6]:port`.
fn parse_address(a: &str) -> Result<(String, u16), String> {
    let bad = || format!("address {a:?} is not host:port (or [ipv6]:port)");
    let (host, port) = if let Some(rest) = a.strip_prefix('[') {
        let (h, p) = rest.split_once("]:").ok_or_else(bad)?;
        (format!("[{h}]"), p)
    } else {
        let (h, p) = a.rsplit_once(':').ok_or_else(bad)?;
        if h.contains(':') {
            return Err(bad());
        }
        (h.to_string(), p)
    };
    let port: u16 = port.parse().map_err(|_| bad())?;
    if host.is_empty() || host == "[]" || port == 0 {
        return Err(bad());
    }
    Ok((host, port))
}

impl ServerFields {
    fn server(&self) -> Result<ServerConfig, String> {
        let ports: Vec<PortMapping> = self.ports.iter().flatten().map(|p| p.0.clone()).collect();
        let command_only = [
            ("cwd", self.cwd.is_some()),
            ("env", !self.env.is_empty()),
            ("ready_line", self.ready_line.is_some()),
            ("ready_after_ms", self.ready_after_ms.is_some()),
            ("ready_timeout_ms", self.ready_timeout_ms.is_some()),
            ("stop_timeout_ms", self.stop_timeout_ms.is_some()),
        ];
        let kind = match (&self.address, &self.command) {
            (Some(_), Some(_)) => return Err("a server has an address or a command, not both".into()),
            (Some(a), None) => {
                if self.count.is_some_and(|n| n != 1) {
                    return Err("count does not go with an address (one server is there)".into());
                }
                let (host, port) = parse_address(a)?;
                ServerKind::Fixed { host, port }
            }
            (None, Some(c)) => {
                let mut cmd = CommandConfig { command: c.0.clone(), ..CommandConfig::new(Vec::<String>::new()) };
                cmd.cwd = self.cwd.clone();
                cmd.env = self.env.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
                cmd.ready = match (&self.ready_line, self.ready_after_ms) {
                    (Some(_), Some(_)) => return Err("give ready_line or ready_after_ms, not both".into()),
                    (Some(line), None) => Readiness::Line(line.clone()),
                    (None, Some(ms)) => Readiness::After(Duration::from_millis(ms)),
                    (None, None) => Readiness::Port,
                };
                if let Some(ms) = self.ready_timeout_ms {
                    cmd.ready_timeout = Duration::from_millis(ms);
                }
                if let Some(ms) = self.stop_timeout_ms {
                    cmd.stop_timeout = Duration::from_millis(ms);
                }
                cmd.check()?;
                ServerKind::Command(cmd)
            }
            (None, None) => {
                if let Some((key, _)) = command_only.iter().find(|(_, set)| *set) {
                    return Err(format!("{key} goes with a command only"));
                }
                ServerKind::Simulated
            }
        };
        if matches!(kind, ServerKind::Fixed { .. }) {
            if let Some((key, _)) = command_only.iter().find(|(_, set)| *set) {
                return Err(format!("{key} goes with a command only"));
            }
        }
        if self.count == Some(0) || self.count.is_some_and(|n| n > 10_000) {
            return Err("count must be 1 to 10000".into());
        }
        Ok(ServerConfig { kind, ports })
    }

    fn from_server(s: &ServerConfig) -> ServerFields {
        let ports = (!s.ports.is_empty()).then(|| s.ports.iter().cloned().map(PortMappingEntry).collect());
        let mut f = ServerFields { ports, ..ServerFields::default() };
        match &s.kind {
            ServerKind::Simulated => {}
            ServerKind::Fixed { host, port } => f.address = Some(format!("{host}:{port}")),
            ServerKind::Command(c) => {
                f.command = Some(CommandField(c.command.clone()));
                f.cwd = c.cwd.clone();
                f.env = c.env.iter().cloned().collect();
                match &c.ready {
                    Readiness::Port => {}
                    Readiness::Line(l) => f.ready_line = Some(l.clone()),
                    Readiness::After(d) => f.ready_after_ms = Some(d.as_millis() as u64),
                }
                f.ready_timeout_ms = Some(c.ready_timeout.as_millis() as u64);
                f.stop_timeout_ms = Some(c.stop_timeout.as_millis() as u64);
            }
        }
        f
    }
}

impl Check for ServerFields {
    fn check(mut self) -> Result<Self, String> {
        self.cwd = self.cwd.as_deref().map(resolve);
        self.server()?;
        Ok(self)
    }
}

fn expand(entries: &[Checked<ServerFields>]) -> Vec<ServerConfig> {
    let mut out = Vec::new();
    for e in entries {
        let server = e.0.server().expect("checked when read");
        for _ in 0..e.0.count.unwrap_or(1) {
            out.push(server.clone());
        }
    }
    out
}

/// Runs of equal servers become one entry with a count.
fn collapse(servers: &[ServerConfig]) -> Vec<Checked<ServerFields>> {
    let mut out: Vec<(ServerConfig, usize)> = Vec::new();
    for s in servers {
        match out.last_mut() {
            Some((last, n)) if last == s && !matches!(s.kind, ServerKind::Fixed { .. }) => *n += 1,
            _ => out.push((s.clone(), 1)),
        }
    }
    out.into_iter()
        .map(|(s, n)| {
            let mut f = ServerFields::from_server(&s);
            f.count = (n > 1).then_some(n);
            Checked(f)
        })
        .collect()
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct TitleFields {
    id: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    servers: Option<Vec<Checked<ServerFields>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    session_hosts: Option<Vec<Checked<ServerFields>>>,
}

impl TitleFields {
    fn title(&self) -> TitleConfig {
        TitleConfig {
            id: self.id,
            servers: self.servers.as_deref().map(expand),
            session_hosts: self.session_hosts.as_deref().map(expand),
        }
    }

    fn from_title(t: &TitleConfig) -> TitleFields {
        TitleFields {
            id: t.id,
            servers: t.servers.as_deref().map(collapse),
            session_hosts: t.session_hosts.as_deref().map(collapse),
        }
    }
}

/// Deserialize for a checked entry: its raw fields, then its `TryFrom` check (see [`checked`]).
macro_rules! checked_entries {
    ($($entry:ident($fields:ident)),* $(,)?) => {$(
        impl<'de> Deserialize<'de> for $entry {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                checked::<D, $fields, $entry>(d, $entry::try_from)
            }
        }
    )*};
}

checked_entries!(TlsEntry(TlsFields), PortMappingEntry(PortMappingFields),);

/// Raw fields that check themselves (and may fix up paths) once read.
trait Check: Sized {
    fn check(self) -> Result<Self, String>;
}

/// Checked fields: serialized as they are, deserialized through [`Check`] (with the position
/// of the value in errors, see [`checked`]).
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
#[serde(transparent)]
struct Checked<F>(F);

fn check_into<F: Check>(f: F) -> Result<Checked<F>, String> {
    f.check().map(Checked)
}

impl<'de, F: Check + Deserialize<'de>> Deserialize<'de> for Checked<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        checked::<D, F, Checked<F>>(d, check_into::<F>)
    }
}
