//! The macros' arguments: `flavor = "..."`, `worker_threads = N` and
//! `start_paused = true|false`, parsed and checked
//! with every error spanned on the token at fault.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Lit, LitStr};

/// Which scheduler the generated code builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    CurrentThread,
    MultiThread,
}

impl Flavor {
    fn parse(lit: &LitStr) -> syn::Result<Flavor> {
        match lit.value().as_str() {
            "current_thread" => Ok(Flavor::CurrentThread),
            "multi_thread" => Ok(Flavor::MultiThread),
            other => Err(syn::Error::new(
                lit.span(),
                format!(
                    "unknown runtime flavor `{other}`; expected `\"current_thread\"` or `\"multi_thread\"`"
                ),
            )),
        }
    }
}

/// Which macro is expanding: they differ in their default flavor and their messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Main,
    Test,
}

impl Kind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Kind::Main => "main",
            Kind::Test => "test",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Kind::Main => Flavor::MultiThread,
            Kind::Test => Flavor::CurrentThread,
        }
    }
}

/// The most workers `Builder::build` accepts.
const MAX_WORKERS: usize = 65_535;

/// The checked arguments of one macro invocation.
#[derive(Debug)]
pub(crate) struct Config {
    pub(crate) flavor: Flavor,
    /// `Some` only with [`Flavor::MultiThread`]; `None` keeps the builder's default (one
    /// worker per CPU).
    pub(crate) worker_threads: Option<usize>,
    /// Whether the runtime's clock starts paused (current-thread only).
    pub(crate) start_paused: bool,
}

/// Collects the arguments while `syn::meta::parser` walks them.
#[derive(Default)]
pub(crate) struct ConfigBuilder {
    flavor: Option<(Flavor, Span)>,
    worker_threads: Option<(usize, Span)>,
    start_paused: Option<(bool, Span)>,
}

impl ConfigBuilder {
    /// Parses one `name = value` argument.
    pub(crate) fn parse_arg(&mut self, kind: Kind, meta: ParseNestedMeta<'_>) -> syn::Result<()> {
        let name = meta
            .path
            .get_ident()
            .map(|i| i.to_string())
            .unwrap_or_default();
        match name.as_str() {
            "flavor" => {
                if self.flavor.is_some() {
                    return Err(meta.error("`flavor` is given more than once"));
                }
                let lit: LitStr = meta.value()?.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "`flavor` takes a string: `\"current_thread\"` or `\"multi_thread\"`",
                    )
                })?;
                self.flavor = Some((Flavor::parse(&lit)?, lit.span()));
            }
            "worker_threads" => {
                if self.worker_threads.is_some() {
                    return Err(meta.error("`worker_threads` is given more than once"));
                }
                let lit: Lit = meta.value()?.parse()?;
                let n = match &lit {
                    Lit::Int(int) => int.base10_parse::<usize>()?,
                    other => {
                        return Err(syn::Error::new(
                            other.span(),
                            "`worker_threads` takes an integer, e.g. `worker_threads = 4`",
                        ))
                    }
                };
                if n == 0 || n > MAX_WORKERS {
                    return Err(syn::Error::new(
                        lit.span(),
                        format!("`worker_threads` must be between 1 and {MAX_WORKERS}"),
                    ));
                }
                self.worker_threads = Some((n, meta.path.span()));
            }
            "start_paused" => {
                if self.start_paused.is_some() {
                    return Err(meta.error("`start_paused` is given more than once"));
                }
                let lit: Lit = meta.value()?.parse()?;
                let paused =
                    match &lit {
                        Lit::Bool(b) => b.value,
                        other => return Err(syn::Error::new(
                            other.span(),
                            "`start_paused` takes `true` or `false`, e.g. `start_paused = true`",
                        )),
                    };
                self.start_paused = Some((paused, meta.path.span()));
            }
            _ => {
                let shown = path_to_string(&meta.path);
                return Err(meta.error(format!(
                    "unknown argument `{shown}` to `#[magpie::{}]`; expected `flavor`, `worker_threads` or `start_paused`",
                    kind.name()
                )));
            }
        }
        Ok(())
    }

    /// Checks the arguments against each other and fills in the defaults.
    pub(crate) fn build(self, kind: Kind) -> syn::Result<Config> {
        let flavor = self.flavor.map_or(kind.default_flavor(), |(f, _)| f);
        if let (Flavor::CurrentThread, Some((_, span))) = (flavor, self.worker_threads) {
            let because = match self.flavor {
                Some(_) => "with `flavor = \"current_thread\"`",
                None => "with the default `current_thread` flavor of `#[magpie::test]`",
            };
            return Err(syn::Error::new(
                span,
                format!(
                    "`worker_threads` cannot be set {because}: it runs everything on one thread; \
                     use `flavor = \"multi_thread\"` to choose a number of workers"
                ),
            ));
        }
        if let (Flavor::MultiThread, Some((true, span))) = (flavor, self.start_paused) {
            return Err(syn::Error::new(
                span,
                "`start_paused = true` needs the `current_thread` flavor: time can only be \
                 paused on a current-thread runtime",
            ));
        }
        Ok(Config {
            start_paused: self.start_paused.is_some_and(|(p, _)| p),
            flavor,
            worker_threads: self.worker_threads.map(|(n, _)| n),
        })
    }
}

fn path_to_string(path: &syn::Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}
