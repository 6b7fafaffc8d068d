//! Short names for what a page's wasm and its wasm-bindgen glue call each other by.
//!
//! wasm-bindgen names each import after the function and a 16-digit hash
//! (`__wbg_addEventListener_70e3766f6252144d`), under the module `./paydesk_widget_bg.js`, and
//! both files spell every name out: the wasm's import section and the glue's import object. The
//! hashes do not compress, so on the pay page the names were 2.3 KB of the wasm's gzip and 1.3 KB
//! of the glue's. Here each import and export is renamed to one or two characters (`a`, `b`, …,
//! `a0`, …) in both files, after wasm-opt and before esbuild. The glue's own exports (`default`,
//! `mount`, …) are JS functions and keep their names; only what the glue and the wasm say to
//! each other changes.

use crate::Result;
use std::path::Path;

/// Renames the imports and exports of `wasm` and what `js`, its glue, calls them, in place.
/// `module` is the import module the glue provides (`./<name>_bg.js`).
pub fn shorten(wasm: &Path, js: &Path, module: &str) -> Result<()> {
    let read_err = |p: &Path, e: std::io::Error| format!("reading {}: {e}", p.display());
    let bytes = std::fs::read(wasm).map_err(|e| read_err(wasm, e))?;
    let glue = std::fs::read_to_string(js).map_err(|e| read_err(js, e))?;
    let (bytes, names) = rename_wasm(&bytes, module)?;
    let glue = rename_glue(&glue, module, &names)?;
    let write_err = |p: &Path, e: std::io::Error| format!("writing {}: {e}", p.display());
    std::fs::write(wasm, bytes).map_err(|e| write_err(wasm, e))?;
    std::fs::write(js, glue).map_err(|e| write_err(js, e))
}

/// The old and new names of the imports (from `module`) and of the exports.
#[derive(Debug, Default, PartialEq)]
struct Names {
    imports: Vec<(String, String)>,
    exports: Vec<(String, String)>,
}

/// The module's bytes with its import and export sections renamed; every other section is
/// copied as it is.
fn rename_wasm(wasm: &[u8], module: &str) -> Result<(Vec<u8>, Names)> {
    if wasm.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut out = wasm[..8].to_vec();
    let mut names = Names::default();
    let mut r = Reader { b: wasm, at: 8 };
    while r.at < wasm.len() {
        let id = r.byte()?;
        let len = r.u32()? as usize;
        let body = r.take(len)?;
        let body = match id {
            2 => imports(body, module, &mut names.imports)?,
            7 => exports(body, &mut names.exports)?,
            _ => body.to_vec(),
        };
        out.push(id);
        put_u32(&mut out, body.len());
        out.extend_from_slice(&body);
    }
    Ok((out, names))
}

/// The import section with `module`'s imports renamed (one short name per distinct name), and
/// that module called `a`.
fn imports(body: &[u8], module: &str, map: &mut Vec<(String, String)>) -> Result<Vec<u8>> {
    let mut r = Reader { b: body, at: 0 };
    let mut out = Vec::new();
    let count = r.u32()?;
    put_u32(&mut out, count as usize);
    for _ in 0..count {
        let (m, field) = (r.name()?, r.name()?);
        let start = r.at;
        r.skip_import_type()?;
        if m == module {
            let known = map.iter().find(|(old, _)| old == field).map(|(_, new)| new);
            let new = match known {
                Some(new) => new.clone(),
                None => {
                    let new = short(map.len());
                    map.push((field.to_owned(), new.clone()));
                    new
                }
            };
            put_name(&mut out, "a");
            put_name(&mut out, &new);
        } else {
            put_name(&mut out, m);
            put_name(&mut out, field);
        }
        out.extend_from_slice(&body[start..r.at]);
    }
    if r.at != body.len() {
        return Err("trailing bytes in the import section".into());
    }
    Ok(out)
}

/// The export section with every export renamed.
fn exports(body: &[u8], map: &mut Vec<(String, String)>) -> Result<Vec<u8>> {
    let mut r = Reader { b: body, at: 0 };
    let mut out = Vec::new();
    let count = r.u32()?;
    put_u32(&mut out, count as usize);
    for i in 0..count as usize {
        let old = r.name()?.to_owned();
        let new = short(i);
        put_name(&mut out, &new);
        out.push(r.byte()?);
        let index = r.u32()?;
        put_u32(&mut out, index as usize);
        map.push((old, new));
    }
    if r.at != body.len() {
        return Err("trailing bytes in the export section".into());
    }
    Ok(out)
}

/// The glue with the module's name, the import object's keys and its `wasm.<export>` uses
/// renamed. Fails if a name the wasm uses is not where the glue is expected to spell it, so a
/// change in wasm-bindgen's output stops the build rather than a page.
fn rename_glue(js: &str, module: &str, names: &Names) -> Result<String> {
    let quoted = format!("\"{module}\"");
    if js.matches(&quoted).count() != 1 {
        return Err(format!("the glue does not name {quoted} once"));
    }
    let all = || names.imports.iter().chain(&names.exports);
    if let Some((old, _)) = all().find(|(old, _)| all().any(|(_, new)| new == old)) {
        return Err(format!("{old} is already a short name"));
    }
    let mut js = js.replace(&quoted, "\"a\"");
    for (old, new) in &names.imports {
        js = replace_word(&js, &format!("{old}:"), &format!("{new}:"))
            .ok_or_else(|| format!("the glue provides no import {old}"))?;
    }
    // An export the glue never calls (a wrapper's JS function may share its name) stays unused.
    for (old, new) in &names.exports {
        if let Some(renamed) = replace_word(&js, &format!("wasm.{old}"), &format!("wasm.{new}")) {
            js = renamed;
        }
    }
    Ok(js)
}

/// `s` with every `from` that stands as a whole word replaced; `None` if there is none. A word
/// ending in `:` (an object key) ends there; any other must not run on into an identifier.
fn replace_word(s: &str, from: &str, to: &str) -> Option<String> {
    let ident = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || "_$".contains(c));
    let mut out = String::with_capacity(s.len());
    let mut copied = 0;
    for (i, _) in s.match_indices(from) {
        let end = i + from.len();
        let before = s[..i].chars().next_back();
        let after = s[end..].chars().next();
        if ident(before) || (!from.ends_with(':') && ident(after)) {
            continue;
        }
        out.push_str(&s[copied..i]);
        out.push_str(to);
        copied = end;
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&s[copied..]);
    Some(out)
}

/// The `i`th short name: `a`…`z`, `A`…`Z`, then a letter and digits. No JS keyword is a single
/// letter or has a digit, so none can come out.
fn short(i: usize) -> String {
    const LETTERS: &[u8; 52] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let letter = char::from(LETTERS[i % 52]);
    match i / 52 {
        0 => letter.to_string(),
        n => format!("{letter}{}", n - 1),
    }
}

/// Reads the binary format's pieces from a byte slice.
struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        let Some(s) = self.b.get(self.at..self.at + n) else {
            return Err(format!("the wasm ends early at byte {}", self.at));
        };
        self.at += n;
        Ok(s)
    }

    /// An unsigned LEB128 number.
    fn u32(&mut self) -> Result<u32> {
        let mut n = 0u64;
        for shift in (0..35).step_by(7) {
            let b = self.byte()?;
            n |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return u32::try_from(n).map_err(|_| "a number too large for u32".to_owned());
            }
        }
        Err("a number longer than five bytes".into())
    }

    fn name(&mut self) -> Result<&'a str> {
        let len = self.u32()? as usize;
        std::str::from_utf8(self.take(len)?).map_err(|_| "a name that is not UTF-8".to_owned())
    }

    /// An import's type: a function's type index, a table, a memory, a global or a tag.
    fn skip_import_type(&mut self) -> Result<()> {
        match self.byte()? {
            0 => self.u32().map(drop),
            1 => {
                self.skip_ref_type()?;
                self.skip_limits()
            }
            2 => self.skip_limits(),
            3 => {
                self.skip_ref_type()?;
                self.byte().map(drop)
            }
            4 => {
                self.byte()?;
                self.u32().map(drop)
            }
            k => Err(format!("an import of unknown kind {k}")),
        }
    }

    /// A value or reference type: one byte, or a typed reference (0x63/0x64) and its heap type.
    fn skip_ref_type(&mut self) -> Result<()> {
        if matches!(self.byte()?, 0x63 | 0x64) {
            // A heap type: an abstract one (one negative byte) or a type index.
            self.u32()?;
        }
        Ok(())
    }

    /// Limits: flags, a minimum, a maximum if flag bit 0 says so (memory64 sizes fit u64, read
    /// here as LEB128 of any length).
    fn skip_limits(&mut self) -> Result<()> {
        let flags = self.byte()?;
        let values = if flags & 1 == 1 { 2 } else { 1 };
        for _ in 0..values {
            while self.byte()? >= 0x80 {}
        }
        Ok(())
    }
}

fn put_u32(out: &mut Vec<u8>, n: usize) {
    let mut n = n as u32;
    loop {
        let b = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(b);
            return;
        }
        out.push(b | 0x80);
    }
}

fn put_name(out: &mut Vec<u8>, s: &str) {
    put_u32(out, s.len());
    out.extend_from_slice(s.as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A module with one function type, the given imports (module, name, kind and type bytes),
    /// one function and the given exports (name, kind, index).
    fn module(imports: &[(&str, &str, &[u8])], exports: &[(&str, u8, u32)]) -> Vec<u8> {
        let section = |out: &mut Vec<u8>, id: u8, body: &[u8]| {
            out.push(id);
            put_u32(out, body.len());
            out.extend_from_slice(body);
        };
        let mut out = b"\0asm\x01\0\0\0".to_vec();
        section(&mut out, 1, &[1, 0x60, 0, 0]);
        let mut body = Vec::new();
        put_u32(&mut body, imports.len());
        for (m, n, ty) in imports {
            put_name(&mut body, m);
            put_name(&mut body, n);
            body.extend_from_slice(ty);
        }
        section(&mut out, 2, &body);
        section(&mut out, 3, &[1, 0]);
        let mut body = Vec::new();
        put_u32(&mut body, exports.len());
        for (n, kind, index) in exports {
            put_name(&mut body, n);
            body.push(*kind);
            put_u32(&mut body, *index as usize);
        }
        section(&mut out, 7, &body);
        section(&mut out, 10, &[1, 2, 0, 0x0b]);
        out
    }

    const FUNC: &[u8] = &[0, 0];
    /// A memory of at least 17 pages and at most 300 (a two-byte LEB128).
    const MEMORY: &[u8] = &[2, 1, 17, 0xac, 0x02];
    /// A table of externrefs, at least 128 entries.
    const TABLE: &[u8] = &[1, 0x6f, 0, 0x80, 0x01];

    #[test]
    fn imports_from_the_glue_and_all_exports_get_short_names_and_nothing_else_changes() {
        let m = "./x_bg.js";
        let before = module(
            &[
                (m, "__wbg_log_0123456789abcdef", FUNC),
                ("env", "memory", MEMORY),
                (m, "__wbindgen_externrefs", TABLE),
                (m, "__wbg_log_0123456789abcdef", FUNC),
            ],
            &[("mount", 0, 3), ("__wbindgen_malloc", 0, 3)],
        );
        let (after, names) = rename_wasm(&before, m).unwrap();
        let want = module(
            &[
                ("a", "a", FUNC),
                ("env", "memory", MEMORY),
                ("a", "b", TABLE),
                ("a", "a", FUNC),
            ],
            &[("a", 0, 3), ("b", 0, 3)],
        );
        assert_eq!(after, want);
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        assert_eq!(
            names,
            Names {
                imports: vec![
                    pair("__wbg_log_0123456789abcdef", "a"),
                    pair("__wbindgen_externrefs", "b")
                ],
                exports: vec![pair("mount", "a"), pair("__wbindgen_malloc", "b")],
            }
        );
    }

    #[test]
    fn a_cut_or_foreign_module_is_refused() {
        let whole = module(&[("./x_bg.js", "f", FUNC)], &[]);
        assert!(rename_wasm(&whole[..whole.len() - 2], "./x_bg.js").is_err());
        assert!(rename_wasm(b"not wasm at all", "./x_bg.js").is_err());
        let unknown_kind = module(&[("./x_bg.js", "f", &[9, 0])], &[]);
        assert!(rename_wasm(&unknown_kind, "./x_bg.js").is_err());
    }

    #[test]
    fn the_glue_is_renamed_where_it_names_the_module_its_imports_and_the_exports() {
        let glue = r#"function __wbg_get_imports() {
    const import0 = {
        __wbg_log_0123456789abcdef: function(arg0) { console.log(arg0); },
    };
    return { "./x_bg.js": import0 };
}
function mount() { wasm.mount(); wasm.mount_console(); mywasm.mount(); }
function f() { return passStringToWasm0(s, wasm.__wbindgen_malloc); }
"#;
        let pair = |a: &str, b: &str| (a.to_owned(), b.to_owned());
        let names = Names {
            imports: vec![pair("__wbg_log_0123456789abcdef", "a")],
            exports: vec![
                pair("mount", "a"),
                pair("__wbindgen_malloc", "b"),
                pair("__wbindgen_never_called", "c"),
            ],
        };
        let js = rename_glue(glue, "./x_bg.js", &names).unwrap();
        assert!(js.contains("        a: function(arg0)"));
        assert!(js.contains(r#"return { "a": import0 };"#));
        assert!(js.contains("function mount() { wasm.a(); wasm.mount_console(); mywasm.mount(); }"));
        assert!(js.contains("passStringToWasm0(s, wasm.b)"));
        // A wasm import the glue does not provide, or a glue that names the module twice, stops
        // the build.
        let missing = Names {
            imports: vec![pair("__wbg_gone_0000000000000000", "b")],
            exports: vec![],
        };
        assert!(rename_glue(glue, "./x_bg.js", &missing).is_err());
        let twice = format!("{glue}\"./x_bg.js\"");
        assert!(rename_glue(&twice, "./x_bg.js", &names).is_err());
    }

    #[test]
    fn short_names_are_unique_and_never_keywords() {
        let all: Vec<String> = (0..300).map(short).collect();
        assert_eq!(&all[..3], ["a", "b", "c"]);
        assert_eq!(all[52], "a0");
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len());
        assert!(all
            .iter()
            .all(|n| n.len() == 1 || n[1..].bytes().all(|b| b.is_ascii_digit())));
    }
}
