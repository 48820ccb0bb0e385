//! Turns `async fn` into a plain `fn` that builds a runtime and `block_on`s the body.

use proc_macro2::TokenStream;
use quote::{quote, ToTokens};
use syn::ItemFn;

use crate::config::{Config, ConfigBuilder, Flavor, Kind};

/// Expands `#[magpie::main]` or `#[magpie::test]` on `item`, or reports every error found
/// in the arguments and the function together.
pub(crate) fn expand(kind: Kind, args: TokenStream, item: TokenStream) -> TokenStream {
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(input) => input,
        // Not a function: the error, then the tokens as they were (rustc reports the rest).
        Err(e) => return with_error(e, item),
    };
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };

    let mut builder = ConfigBuilder::default();
    let parser = syn::meta::parser(|meta| builder.parse_arg(kind, meta));
    let config = match syn::parse::Parser::parse2(parser, args) {
        Ok(()) => builder.build(kind).map_err(&mut push).ok(),
        Err(e) => {
            push(e);
            None
        }
    };
    for e in check_signature(kind, &input) {
        push(e);
    }

    match (errors, config) {
        (None, Some(config)) => generate(kind, &config, input),
        (Some(e), _) => with_error(e, stub(kind, &input)),
        (None, None) => unreachable!("a config is missing only after an error"),
    }
}

/// The function's own mistakes, each spanned on the token at fault.
fn check_signature(kind: Kind, input: &ItemFn) -> Vec<syn::Error> {
    let mut errors = Vec::new();
    let sig = &input.sig;
    if sig.asyncness.is_none() {
        errors.push(syn::Error::new(
            sig.fn_token.span,
            "the `async` keyword is missing from the function declaration",
        ));
    }
    if !sig.inputs.is_empty() {
        let what = match kind {
            Kind::Main => "the `#[magpie::main]` function",
            Kind::Test => "a `#[magpie::test]` function",
        };
        errors.push(syn::Error::new_spanned(
            &sig.inputs,
            format!("{what} cannot take arguments"),
        ));
    }
    if kind == Kind::Test {
        if let Some(attr) = input.attrs.iter().find(|a| a.path().is_ident("test")) {
            errors.push(syn::Error::new_spanned(
                attr,
                "a second `#[test]` attribute; `#[magpie::test]` already marks the function as a test",
            ));
        }
    }
    errors
}

fn generate(kind: Kind, config: &Config, input: ItemFn) -> TokenStream {
    let ItemFn {
        attrs,
        vis,
        mut sig,
        block,
    } = input;
    sig.asyncness = None;

    let mut builder = match config.flavor {
        Flavor::CurrentThread => quote! { ::magpie::Builder::new_current_thread() },
        Flavor::MultiThread => quote! { ::magpie::Builder::new_multi_thread() },
    };
    if let Some(n) = config.worker_threads {
        builder.extend(quote! { .worker_threads(#n) });
    }
    if config.start_paused {
        builder.extend(quote! { .start_paused(true) });
    }
    let expect = format!("#[magpie::{}]: failed to build the runtime", kind.name());
    let test_attr = match kind {
        Kind::Main => TokenStream::new(),
        Kind::Test => quote! { #[::core::prelude::v1::test] },
    };
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            let body = async #block;
            #builder
                .build()
                .expect(#expect)
                .block_on(body)
        }
    }
}

/// What stands in for the function when the macro reports an error: for `main`, an empty
/// `fn` of the same name, so rustc does not add "`main` function not found" (or "`main`
/// is not allowed to be `async`") to the real error; for a test, nothing.
fn stub(kind: Kind, input: &ItemFn) -> TokenStream {
    match kind {
        Kind::Main => {
            let vis = &input.vis;
            let ident = &input.sig.ident;
            quote! { #vis fn #ident() {} }
        }
        Kind::Test => TokenStream::new(),
    }
}

fn with_error(error: syn::Error, tokens: impl ToTokens) -> TokenStream {
    let mut out = error.to_compile_error();
    tokens.to_tokens(&mut out);
    out
}
