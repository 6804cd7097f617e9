//! One definition per scenario parameter.
//!
//! Every table of a scenario file is declared once with [`section!`]: field name, type,
//! default, unit, valid range and a one-line doc. From that single declaration the macro
//! derives the serde struct (with `deny_unknown_fields` and defaults), range validation,
//! and the [`ParamSpec`] rows that `coprosim params` prints and `docs/PARAMETERS.md` is
//! generated from, so the three can never disagree.

use serde::Serialize;

/// A problem found in a scenario, before it is located in the source text.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// Key path, e.g. `coalitions[0].governance.voice`.
    pub path: String,
    /// What was found and what was expected.
    pub message: String,
}

impl Problem {
    /// A problem at `path`.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Problem { path: path.into(), message: message.into() }
    }
}

/// The valid range of a numeric parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Range {
    /// Lower bound.
    pub lo: f64,
    /// Upper bound (always inclusive).
    pub hi: f64,
    /// Whether the lower bound is excluded (`(lo, hi]`).
    pub lo_open: bool,
}

impl Range {
    /// Whether `v` lies in the range.
    pub fn contains(&self, v: f64) -> bool {
        let above = if self.lo_open { v > self.lo } else { v >= self.lo };
        above && v <= self.hi
    }
}

impl std::fmt::Display for Range {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let open = if self.lo_open { "(" } else { "[" };
        write!(f, "{open}{}, {}]", fmt_bound(self.lo), fmt_bound(self.hi))
    }
}

fn fmt_bound(v: f64) -> String {
    if v.abs() >= 1e6 && v.fract() == 0.0 { format!("{v:e}") } else { format!("{v}") }
}

/// The documented definition of one scenario parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamSpec {
    /// Key path with `[]` for array elements, e.g. `coalitions[].governance.voice`.
    pub key: String,
    /// User-facing type name.
    pub ty: &'static str,
    /// Default rendered as TOML.
    pub default: String,
    /// Unit, empty when dimensionless.
    pub unit: &'static str,
    /// Valid range, for numbers.
    pub range: Option<Range>,
    /// One-line description.
    pub doc: &'static str,
}

/// Types that can appear as a scenario value: they name their type and know whether they
/// are a nested table whose own parameters should be listed.
pub trait Describe {
    /// User-facing type name.
    const TYPE_NAME: &'static str;
    /// True for tables declared with [`section!`] (and arrays or options of them).
    const IS_SECTION: bool = false;
    /// Push the specs of a nested table's parameters under `prefix`.
    fn describe(_prefix: &str, _out: &mut Vec<ParamSpec>) {}
}

/// Validation every value gets whatever its declared range: floats must be finite, and
/// nested tables check their own fields.
pub trait Check {
    /// Push problems found at `path`.
    fn check(&self, _path: &str, _out: &mut Vec<Problem>) {}
}

/// Numeric view of a value for range checks (`None` when absent).
pub trait Bounded {
    /// The value as f64, if present.
    fn value(&self) -> Option<f64>;
}

macro_rules! scalar {
    ($($t:ty => $name:literal),*) => {$(
        impl Describe for $t { const TYPE_NAME: &'static str = $name; }
        impl Bounded for $t { fn value(&self) -> Option<f64> { Some(*self as f64) } }
    )*};
}
scalar!(u32 => "integer", u64 => "integer", usize => "integer");
impl Check for u32 {}
impl Check for u64 {}
impl Check for usize {}

impl Describe for f64 {
    const TYPE_NAME: &'static str = "number";
}
impl Bounded for f64 {
    fn value(&self) -> Option<f64> {
        Some(*self)
    }
}
impl Check for f64 {
    fn check(&self, path: &str, out: &mut Vec<Problem>) {
        if !self.is_finite() {
            out.push(Problem::new(path, format!("found {self}, expected a finite number")));
        }
    }
}
impl Describe for String {
    const TYPE_NAME: &'static str = "string";
}
impl Check for String {}
impl Describe for bool {
    const TYPE_NAME: &'static str = "boolean";
}
impl Check for bool {}

impl<T: Describe> Describe for Vec<T> {
    const TYPE_NAME: &'static str = "array";
    const IS_SECTION: bool = T::IS_SECTION;
    fn describe(prefix: &str, out: &mut Vec<ParamSpec>) {
        T::describe(&format!("{prefix}[]"), out)
    }
}
impl<T: Check> Check for Vec<T> {
    fn check(&self, path: &str, out: &mut Vec<Problem>) {
        for (i, item) in self.iter().enumerate() {
            item.check(&format!("{path}[{i}]"), out);
        }
    }
}
impl Describe for std::collections::BTreeMap<String, f64> {
    const TYPE_NAME: &'static str = "table of numbers by name";
}
impl Check for std::collections::BTreeMap<String, f64> {
    fn check(&self, path: &str, out: &mut Vec<Problem>) {
        for (name, v) in self {
            let key = join(path, name);
            if !v.is_finite() {
                out.push(Problem::new(key, format!("found {v}, expected a finite number")));
            } else if !(0.0..=1.0).contains(v) {
                out.push(Problem::new(key, format!("found {v}, expected a share in [0, 1]")));
            }
        }
    }
}

/// Settings by key path, each a number (a model's fixed settings in a targets file): any
/// finite number, since the scenario the key belongs to checks its range.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Settings(pub std::collections::BTreeMap<String, f64>);
impl Describe for Settings {
    const TYPE_NAME: &'static str = "table of numbers by key path";
}
impl Check for Settings {
    fn check(&self, path: &str, out: &mut Vec<Problem>) {
        for (key, v) in &self.0 {
            if !v.is_finite() {
                out.push(Problem::new(join(path, key), format!("found {v}, expected a finite number")));
            }
        }
    }
}

impl<T: Describe> Describe for Option<T> {
    const TYPE_NAME: &'static str = T::TYPE_NAME;
    const IS_SECTION: bool = T::IS_SECTION;
    fn describe(prefix: &str, out: &mut Vec<ParamSpec>) {
        T::describe(prefix, out)
    }
}
impl<T: Check> Check for Option<T> {
    fn check(&self, path: &str, out: &mut Vec<Problem>) {
        if let Some(v) = self {
            v.check(path, out)
        }
    }
}
impl<T: Bounded> Bounded for Option<T> {
    fn value(&self) -> Option<f64> {
        self.as_ref().and_then(Bounded::value)
    }
}

/// The generic form of a key path, indices erased: `coalitions[0].governance.voice` (or
/// `coalitions[food_bank]...`) becomes `coalitions[].governance.voice`, the key of its
/// [`ParamSpec`].
pub fn generic_path(path: &str) -> String {
    let mut out = String::new();
    let mut inside = false;
    for ch in path.chars() {
        match ch {
            '[' => {
                out.push_str("[]");
                inside = true;
            }
            ']' => inside = false,
            _ if !inside => out.push(ch),
            _ => {}
        }
    }
    out
}

/// Join a key path and a field name.
pub fn join(prefix: &str, field: &str) -> String {
    if prefix.is_empty() { field.to_string() } else { format!("{prefix}.{field}") }
}

/// Render a default value as TOML for the docs and `check` output.
pub fn show_default<T: Serialize>(v: &T) -> String {
    match toml::Value::try_from(v) {
        Ok(toml::Value::String(s)) if s.is_empty() => "\"\"".to_string(),
        Ok(toml::Value::Array(a)) if a.is_empty() => "[]".to_string(),
        Ok(v) => v.to_string(),
        Err(_) => "none".to_string(),
    }
}

/// Push a range problem when `v` is present and outside `range`.
pub fn check_range<T: Bounded>(v: &T, range: Range, path: &str, out: &mut Vec<Problem>) {
    if let Some(x) = v.value()
        && x.is_finite()
        && !range.contains(x)
    {
        out.push(Problem::new(path, format!("found {x}, expected a number in {range}")));
    }
}

/// Declare a scenario table: see the module docs.
///
/// Each field reads `/// doc` `name: Type = default` then optionally `, unit "u"` and one
/// of `, range(lo, hi)` (inclusive) or `, above(lo, hi)` (lower bound excluded), then `;`.
#[macro_export]
macro_rules! section {
    (
        $(#[doc = $sdoc:literal])*
        pub struct $name:ident {
            $(
                #[doc = $doc:literal]
                $field:ident : $ty:ty = $default:expr
                $(, unit $unit:literal)?
                $(, range($lo:expr, $hi:expr))?
                $(, above($olo:expr, $ohi:expr))?
                ;
            )*
        }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(default, deny_unknown_fields)]
        pub struct $name {
            $( #[doc = $doc] pub $field: $ty, )*
        }

        impl Default for $name {
            fn default() -> Self {
                Self { $( $field: $default, )* }
            }
        }

        impl $crate::scenario::params::Describe for $name {
            const TYPE_NAME: &'static str = "table";
            const IS_SECTION: bool = true;
            fn describe(prefix: &str, out: &mut Vec<$crate::scenario::params::ParamSpec>) {
                use $crate::scenario::params::{Describe, ParamSpec, Range, join, show_default};
                let defaults = Self::default();
                $(
                    let key = join(prefix, stringify!($field));
                    if <$ty as Describe>::IS_SECTION {
                        <$ty as Describe>::describe(&key, out);
                    } else {
                        #[allow(unused_mut, unused_assignments)]
                        let mut range: Option<Range> = None;
                        $( range = Some(Range { lo: $lo as f64, hi: $hi as f64, lo_open: false }); )?
                        $( range = Some(Range { lo: $olo as f64, hi: $ohi as f64, lo_open: true }); )?
                        #[allow(unused_mut, unused_assignments)]
                        let mut unit = "";
                        $( unit = $unit; )?
                        out.push(ParamSpec {
                            key,
                            ty: <$ty as Describe>::TYPE_NAME,
                            default: show_default(&defaults.$field),
                            unit,
                            range,
                            doc: $doc.trim(),
                        });
                    }
                )*
            }
        }

        impl $crate::scenario::params::Check for $name {
            fn check(&self, path: &str, out: &mut Vec<$crate::scenario::params::Problem>) {
                #[allow(unused_imports)]
                use $crate::scenario::params::{Check, Range, check_range, join};
                $(
                    let key = join(path, stringify!($field));
                    $( check_range(&self.$field, Range { lo: $lo as f64, hi: $hi as f64, lo_open: false }, &key, out); )?
                    $( check_range(&self.$field, Range { lo: $olo as f64, hi: $ohi as f64, lo_open: true }, &key, out); )?
                    Check::check(&self.$field, &key, out);
                )*
            }
        }
    };
}
pub use crate::section;

/// Declare a string-valued enum parameter with its allowed values documented.
#[macro_export]
macro_rules! choice {
    (
        $(#[doc = $sdoc:literal])*
        pub enum $name:ident { $( #[doc = $vdoc:literal] $variant:ident = $text:literal $(| $alias:literal)* ),* $(,)? }
    ) => {
        $(#[doc = $sdoc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $( #[doc = $vdoc] #[serde(rename = $text $(, alias = $alias)*)] $variant, )*
        }
        impl $crate::scenario::params::Describe for $name {
            // Aliases are listed too: the parser takes them, so the docs and the JSON Schema must.
            const TYPE_NAME: &'static str = concat!("one of", $(" \"", $text, "\"" $(, " \"", $alias, "\"")*),*);
        }
        impl $crate::scenario::params::Check for $name {}
        impl $name {
            /// The name a scenario file gives it.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )*
                }
            }
        }
    };
}
pub use crate::choice;

#[cfg(test)]
mod tests {
    use super::*;

    section! {
        /// Test table.
        pub struct Demo {
            /// A share.
            share: f64 = 0.5, range(0, 1);
            /// A positive concentration.
            alpha: f64 = 1.0, unit "per year", above(0, 10);
            /// Optional count.
            count: Option<u32> = None, range(1, 5);
        }
    }

    #[test]
    fn ranges_and_finiteness_are_checked() {
        let mut out = Vec::new();
        Demo { share: 1.5, alpha: 0.0, count: Some(9) }.check("demo", &mut out);
        let paths: Vec<_> = out.iter().map(|p| p.path.as_str()).collect();
        assert_eq!(paths, ["demo.share", "demo.alpha", "demo.count"]);
        assert!(out[1].message.contains("(0, 10]"), "{}", out[1].message);

        let mut out = Vec::new();
        Demo { share: f64::NAN, ..Demo::default() }.check("", &mut out);
        assert_eq!(out.len(), 1);
        assert!(out[0].message.contains("finite"));

        let mut out = Vec::new();
        Demo::default().check("", &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn specs_come_from_the_declaration() {
        let mut specs = Vec::new();
        Demo::describe("demo", &mut specs);
        assert_eq!(specs.len(), 3);
        assert_eq!(specs[1].key, "demo.alpha");
        assert_eq!(specs[1].unit, "per year");
        assert_eq!(specs[1].default, "1.0");
        assert_eq!(specs[2].default, "none");
        assert_eq!(specs[0].doc, "A share.");
    }
}
