//! The calls that stand for elementwise maps over arrays (see [`crate::elementwise`]), printed
//! as the runtime's `map_vjp`, `map_jvp` and `map_vjp_jvp` with a closure made from the map's
//! nested function, or as the source wrote the map where nothing is differentiated.
//!
//! The closure's parameters are an array of elements (and one of their tangents); what the map
//! captures is borrowed once, outside the closure, and bound inside it to the names the nested
//! function's code reads: by value where it is `Copy` (floats), by reference otherwise.

use super::*;
use crate::elementwise::{self, ElemMap, How, Mode};

impl Gen<'_> {
    /// The code of instruction `i` if it is a call that stands for an elementwise map.
    pub(super) fn elem_map_inst(&self, i: Inst) -> Option<TokenStream> {
        let (path, args, tangents, mode) = match &self.f.inst(i).kind {
            InstKind::Call { path, args } => (path, args, None, Mode::Plain),
            InstKind::CallVjp { path, args } => (path, args, None, Mode::Grad),
            InstKind::CallJvp {
                path,
                args,
                tangents,
                ..
            } => (path, args, Some(tangents), Mode::Jvp),
            InstKind::CallVjpJvp {
                path,
                args,
                tangents,
            } => (path, args, Some(tangents), Mode::Hvp),
            _ => return None,
        };
        let map = self.f.elem_map(path)?;
        let none = vec![None; args.len()];
        let tangents = tangents.unwrap_or(&none);
        Some(self.elem_map_code(i, map, args, tangents, mode))
    }

    fn elem_map_code(
        &self,
        i: Inst,
        map: &ElemMap,
        args: &[Value],
        tangents: &[Option<Value>],
        mode: Mode,
    ) -> TokenStream {
        let pv = self.pv.clone();
        let results = &self.f.inst(i).results;
        let active = |a: Value| self.active.get(a.index()).copied().unwrap_or(false);
        let mask: Vec<bool> = args
            .iter()
            .zip(tangents)
            .map(|(&a, t)| match mode {
                Mode::Plain => false,
                Mode::Grad => active(a),
                Mode::Jvp => t.is_some(),
                Mode::Hvp => active(a) || t.is_some(),
            })
            .collect();
        let k = map.arrays;
        let params = &map.body.params;
        if mode == Mode::Plain {
            if let Some(w) = &map.written {
                return self.elem_map_written(i, w, k, args);
            }
        }
        // The types the nested function may name: the element type where the source says it.
        let tys: Vec<syn::Type> = args
            .iter()
            .enumerate()
            .map(|(j, &a)| {
                let t = if j < k {
                    elementwise::elem_float(self.f, self.tys, a)
                } else {
                    self.ty(a).float()
                };
                match t {
                    Some(t) => syn::parse2(t.tokens()).expect("a float type"),
                    None => syn::parse_quote!(_),
                }
            })
            .collect();
        let code = elementwise::code(map, &mask, &tys, mode, &self.krate);
        // Outside the closure: the arrays' views, the captured values and their tangents.
        let floats = |j: &usize| !map.data[*j];
        let views: Vec<TokenStream> = (0..k)
            .filter(floats)
            .map(|j| {
                let x = self.by_ref(args[j]);
                quote!(#pv::elems(#x))
            })
            .collect();
        let dviews: Vec<TokenStream> = tangents[..k]
            .iter()
            .flatten()
            .map(|&d| {
                let x = self.by_ref(d);
                quote!(#pv::elems(#x))
            })
            .collect();
        let vs = quote::format_ident!("__ad_views");
        let mut outside = quote! { let #vs = [#(#views),*]; };
        let mut inside = TokenStream::new();
        let elems: Vec<&syn::Ident> = (0..k).filter(floats).map(|j| &params[j].ident).collect();
        inside.append(quote! { let [#(#elems),*] = __ad_e; });
        // The elements of arrays of data, read in step with the others.
        for j in (0..k).filter(|j| map.data[*j]) {
            let data = quote::format_ident!("__ad_data{}", j);
            let x = self.by_ref(args[j]);
            outside.append(quote! {
                let #data = #pv::DataElems::new(#pv::elems(#x), #vs[0].shape());
            });
            let name = &params[j].ident;
            inside.append(quote! { let #name = #data.next(); });
        }
        for (j, &a) in args.iter().enumerate().skip(k) {
            let cap = quote::format_ident!("__ad_cap{}", j);
            let x = self.e(a);
            outside.append(quote! { let #cap = &#x; });
            let name = &params[j].ident;
            let read = self.captured(a, &cap);
            inside.append(quote! { let #name = #read; });
        }
        if matches!(mode, Mode::Jvp | Mode::Hvp) {
            let mut given = Vec::new();
            for j in 0..args.len() {
                if !mask[j] {
                    continue;
                }
                let d = elementwise::tangent_name(map, j);
                let name = &params[j].ident;
                match tangents[j] {
                    Some(_) if j < k => given.push(d),
                    Some(t) => {
                        let cap = quote::format_ident!("__ad_dcap{}", j);
                        let x = self.e(t);
                        outside.append(quote! { let #cap = &#x; });
                        let read = self.captured(t, &cap);
                        inside.append(quote! { let #d = #read; });
                    }
                    None => inside.append(quote! { let #d = #pv::zero_like(&#name); }),
                }
            }
            inside = quote! { let [#(#given),*] = __ad_de; #inside };
        }
        let y = results[0];
        let (m, yv) = (self.mut_kw(y), self.v(y));
        // The partial derivatives the nested function's gradient holds, in parameter order:
        // those of the arrays, then those of the captures.
        let n_diff = mask.iter().filter(|&&m| m).count();
        let split = |grad: &syn::Ident| -> (TokenStream, TokenStream) {
            let names: Vec<syn::Ident> = (0..n_diff)
                .map(|n| quote::format_ident!("{}{}", grad, n))
                .collect();
            let bind = if n_diff == 1 {
                let g0 = &names[0];
                quote! { let #g0 = #grad; }
            } else {
                quote! { let (#(#names,)*) = #grad; }
            };
            let n_arrays = mask[..k].iter().filter(|&&m| m).count();
            let (a, c) = names.split_at(n_arrays);
            let parts = quote! { [#(#a),*], (#(#pv::captured_partial(#c),)*) };
            (bind, parts)
        };
        // The pullback's gradient from the runtime's (arrays, captures): bare for one argument.
        let flat = |ga: &syn::Ident, gc: &syn::Ident| -> (TokenStream, TokenStream) {
            let n_arrays = mask[..k].iter().filter(|&&m| m).count();
            let a: Vec<syn::Ident> = (0..n_arrays)
                .map(|n| quote::format_ident!("{}{}", ga, n))
                .collect();
            let c: Vec<syn::Ident> = (n_arrays..n_diff)
                .map(|n| quote::format_ident!("{}{}", gc, n))
                .collect();
            let pat = quote! { ([#(#a),*], (#(#c,)*)) };
            let all: Vec<&syn::Ident> = a.iter().chain(&c).collect();
            let out = if all.len() == 1 {
                let g = all[0];
                quote!(#g)
            } else {
                quote! { (#(#all,)*) }
            };
            (pat, out)
        };
        let markers: Vec<TokenStream> = mask
            .iter()
            .map(|&m| if m { quote!(#pv::Yes) } else { quote!(#pv::No) })
            .collect();
        let span = map.span;
        // The closure's parameters are read by `inside`, written at the call site's span: they
        // keep that span under `quote_spanned!`, or a body from a `macro_rules!` (whose tokens
        // have another hygiene context than the attribute's) could not see them.
        let (e, de) = (
            quote::format_ident!("__ad_e"),
            quote::format_ident!("__ad_de"),
        );
        match mode {
            Mode::Plain => quote_spanned! {span=>
                let #m #yv = {
                    #outside
                    #pv::map_plain(#vs, |#e| { #inside #code })
                };
            },
            Mode::Jvp => {
                let dy = self.v(results[1]);
                quote_spanned! {span=>
                    let (#m #yv, #dy) = {
                        #outside
                        #pv::map_jvp(#vs, [#(#dviews),*], |#e, #de| {
                            #inside
                            #code
                        })
                    };
                }
            }
            Mode::Grad => {
                let (pb, sel) = (self.v(results[1]), self.v(results[2]));
                let grad = quote::format_ident!("__ad_grad");
                let (bind, parts) = split(&grad);
                let (pat, out) = flat(
                    &quote::format_ident!("__ad_ga"),
                    &quote::format_ident!("__ad_gc"),
                );
                quote_spanned! {span=>
                    let #sel = (#(#markers,)*);
                    let (#m #yv, #pb) = {
                        #outside
                        let (__ad_y, __ad_pb) = #pv::map_vjp(#vs, |#e| {
                            #inside
                            let (__ad_y, #grad) = { #code };
                            #bind
                            (__ad_y, #parts)
                        });
                        (__ad_y, move |__ad_g| {
                            let #pat = __ad_pb.apply(__ad_g);
                            #out
                        })
                    };
                }
            }
            Mode::Hvp => {
                let (pb, sel, dy) = (self.v(results[1]), self.v(results[2]), self.v(results[3]));
                let (grad, hv) = (
                    quote::format_ident!("__ad_grad"),
                    quote::format_ident!("__ad_hv"),
                );
                let (bind_g, parts_g) = split(&grad);
                let (bind_h, parts_h) = split(&hv);
                let (pat_g, out_g) = flat(
                    &quote::format_ident!("__ad_ga"),
                    &quote::format_ident!("__ad_gc"),
                );
                let (pat_h, out_h) = flat(
                    &quote::format_ident!("__ad_ha"),
                    &quote::format_ident!("__ad_hc"),
                );
                quote_spanned! {span=>
                    let #sel = (#(#markers,)*);
                    let (#m #yv, #dy, #pb) = {
                        #outside
                        let (__ad_y, __ad_dy, __ad_pb) = #pv::map_vjp_jvp(
                            #vs,
                            [#(#dviews),*],
                            |#e, #de| {
                                #inside
                                let (__ad_y, __ad_dy, #grad, #hv) = { #code };
                                #bind_g
                                #bind_h
                                (__ad_y, __ad_dy, #parts_g, #parts_h)
                            },
                        );
                        (__ad_y, __ad_dy, move |__ad_g, __ad_dg| {
                            let (#pat_g, #pat_h) = __ad_pb.apply(__ad_g, __ad_dg);
                            (#out_g, #out_h)
                        })
                    };
                }
            }
        }
    }

    /// A captured value inside the closure, from `cap`, a reference to it outside: a copy for a
    /// float, otherwise a copy where the type is `Copy` and the reference where it is not.
    fn captured(&self, v: Value, cap: &syn::Ident) -> TokenStream {
        let pv = &self.pv;
        if self.ty(v).is_plain() {
            quote!(*#cap)
        } else {
            quote!({
                use #pv::{CapturedCopy as _, CapturedRef as _};
                (&#pv::Captured(#cap)).get()
            })
        }
    }

    /// The map as the source writes it, with the names it reads bound to their values.
    fn elem_map_written(
        &self,
        i: Inst,
        w: &elementwise::Written,
        k: usize,
        args: &[Value],
    ) -> TokenStream {
        let y = self.f.inst(i).results[0];
        let (m, yv) = (self.mut_kw(y), self.v(y));
        let mut binds = TokenStream::new();
        for (name, j, refs) in &w.captures {
            let a = args[k + j];
            let cap = quote::format_ident!("__ad_cap{}", j);
            let x = self.e(a);
            let read = self.captured(a, &cap);
            let amps = (0..*refs).map(|_| quote!(&));
            binds.append(
                quote! { let #name = { let #cap = &#x; #read }; let #name = #(#amps)* #name; },
            );
        }
        let fun = &w.fun;
        let call = match &w.how {
            How::Method(method) => {
                let recv = self.e(args[0]);
                quote!(#recv.#method(#fun))
            }
            How::Zip(zip) => {
                let ps: Vec<TokenStream> = args[..k].iter().map(|&a| self.by_ref(a)).collect();
                let first = &ps[0];
                let rest = &ps[1..];
                quote!(#zip(#first)#(.and(#rest))*.map_collect(#fun))
            }
        };
        quote! { let #m #yv = { #binds #call }; }
    }
}
