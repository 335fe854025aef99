//! The content digest behind image template names (docs/adr/0006): a canonical byte encoding
//! of the template module fed to SHA-256.
//!
//! The encoding is ours rather than `Debug` or `std::hash::Hash` output, because neither is
//! promised to stay the same across Rust releases, and a template name that changed with the
//! compiler would rebuild every image. Each value is a one-byte tag followed by its parts;
//! strings and lists carry their length first, so no two different values share an encoding.
//! Text that only people read (comments, parameter descriptions) is left out: rewording it
//! does not change what AIB builds, so it must not rename the template.

use sha2::{Digest as _, Sha256};

use super::{Expr, Param, ParamType, Prop, Resource};

/// Something that can be fed to the digest.
pub(crate) trait Canonical {
    fn feed(&self, d: &mut Digest);
}

/// SHA-256 over canonical encodings.
pub(crate) struct Digest(Sha256);

impl Digest {
    pub(crate) fn new() -> Digest {
        Digest(Sha256::new())
    }

    pub(crate) fn add(&mut self, v: &(impl Canonical + ?Sized)) -> &mut Digest {
        v.feed(self);
        self
    }

    pub(crate) fn finish(self) -> [u8; 32] {
        self.0.finalize().into()
    }

    fn tag(&mut self, t: u8) {
        self.0.update([t]);
    }

    fn len(&mut self, n: usize) {
        self.0.update((n as u64).to_le_bytes());
    }

    fn int(&mut self, i: i64) {
        self.0.update(i.to_le_bytes());
    }

    fn text(&mut self, s: &str) {
        self.len(s.len());
        self.0.update(s.as_bytes());
    }
}

impl Canonical for str {
    fn feed(&self, d: &mut Digest) {
        d.text(self);
    }
}

impl Canonical for String {
    fn feed(&self, d: &mut Digest) {
        d.text(self);
    }
}

impl<T: Canonical> Canonical for [T] {
    fn feed(&self, d: &mut Digest) {
        d.len(self.len());
        self.iter().for_each(|v| v.feed(d));
    }
}

impl<T: Canonical> Canonical for Vec<T> {
    fn feed(&self, d: &mut Digest) {
        self.as_slice().feed(d);
    }
}

impl<T: Canonical> Canonical for Option<T> {
    fn feed(&self, d: &mut Digest) {
        match self {
            None => d.tag(0),
            Some(v) => {
                d.tag(1);
                v.feed(d);
            }
        }
    }
}

impl<A: Canonical, B: Canonical> Canonical for (A, B) {
    fn feed(&self, d: &mut Digest) {
        self.0.feed(d);
        self.1.feed(d);
    }
}

impl Canonical for i64 {
    fn feed(&self, d: &mut Digest) {
        d.int(*self);
    }
}

impl Canonical for u32 {
    fn feed(&self, d: &mut Digest) {
        d.int(i64::from(*self));
    }
}

impl Canonical for bool {
    fn feed(&self, d: &mut Digest) {
        d.tag(u8::from(*self));
    }
}

impl Canonical for Expr {
    fn feed(&self, d: &mut Digest) {
        match self {
            Expr::Null => d.tag(0),
            Expr::Bool(b) => {
                d.tag(1);
                b.feed(d);
            }
            Expr::Int(i) => {
                d.tag(2);
                d.int(*i);
            }
            Expr::Str(s) => {
                d.tag(3);
                d.text(s);
            }
            Expr::Array(items) => {
                d.tag(4);
                items.feed(d);
            }
            Expr::Object(props) => {
                d.tag(5);
                props.feed(d);
            }
            Expr::Param(p) => {
                d.tag(6);
                d.text(p);
            }
            Expr::Var(v) => {
                d.tag(7);
                d.text(v);
            }
            Expr::Ref(symbol, path) => {
                d.tag(8);
                d.text(symbol);
                path.feed(d);
            }
            Expr::ModuleOutput(module, name) => {
                d.tag(9);
                d.text(module);
                d.text(name);
            }
            Expr::Call(f, args) => {
                d.tag(10);
                d.text(f);
                args.feed(d);
            }
            Expr::Access(e, member) => {
                d.tag(11);
                e.feed(d);
                d.text(member);
            }
            Expr::Interp(parts) => {
                d.tag(12);
                parts.feed(d);
            }
            // The comment is for readers of the Bicep; ARM never sees it.
            Expr::Commented(_, e) => e.feed(d),
            Expr::Cond(c, a, b) => {
                d.tag(13);
                c.feed(d);
                a.feed(d);
                b.feed(d);
            }
        }
    }
}

impl Canonical for Prop {
    fn feed(&self, d: &mut Digest) {
        self.key.feed(d);
        self.value.feed(d);
    }
}

impl Canonical for ParamType {
    fn feed(&self, d: &mut Digest) {
        d.tag(match self {
            ParamType::String => 0,
            ParamType::Int => 1,
            ParamType::Bool => 2,
            ParamType::Object => 3,
            ParamType::Array => 4,
        });
    }
}

impl Canonical for Resource {
    fn feed(&self, d: &mut Digest) {
        // Destructured in full so that a new field cannot be left out of the digest unnoticed.
        let Resource { symbol, rtype, api, existing, name, parent, scope, comment: _, body } = self;
        d.add(symbol).add(rtype).add(*api).add(existing).add(name).add(parent).add(scope).add(body);
    }
}

impl Canonical for Param {
    fn feed(&self, d: &mut Digest) {
        let Param { name, ty, description: _, default, allowed, min, max, length, value } = self;
        d.add(name).add(ty).add(default).add(allowed).add(min).add(max).add(length).add(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn digest(v: &(impl Canonical + ?Sized)) -> [u8; 32] {
        let mut d = Digest::new();
        d.add(v);
        d.finish()
    }

    #[test]
    fn length_prefixes_keep_neighbouring_strings_apart() {
        let a = vec![Expr::str("ab"), Expr::str("c")];
        let b = vec![Expr::str("a"), Expr::str("bc")];
        assert_ne!(digest(&a), digest(&b));
        assert_ne!(digest(&Expr::param("x")), digest(&Expr::Var("x".into())));
    }

    #[test]
    fn comments_and_descriptions_do_not_count() {
        let plain = Expr::obj(vec![("a", Expr::Int(1))]);
        let commented = Expr::commented("explained", plain.clone());
        assert_eq!(digest(&plain), digest(&commented));
        let mut p = Param::new("n", ParamType::String, "Required. One thing.");
        let before = digest(&p);
        p.description = "Required. Said differently.".into();
        assert_eq!(before, digest(&p));
        p.default = Some(Expr::str("v"));
        assert_ne!(before, digest(&p));
    }

    #[test]
    fn encoding_is_fixed() {
        // The names of every template ever deployed depend on these bytes: a change here
        // must be deliberate (and shows up in every golden file).
        let e = Expr::Array(vec![Expr::Int(1), Expr::str("x"), Expr::Null]);
        let hex: String = digest(&e).iter().map(|b| format!("{b:02x}")).collect();
        let mut expected = Sha256::new();
        expected.update([4]);
        expected.update(3u64.to_le_bytes());
        expected.update([2]);
        expected.update(1i64.to_le_bytes());
        expected.update([3]);
        expected.update(1u64.to_le_bytes());
        expected.update(b"x");
        expected.update([0]);
        let want: String = expected.finalize().iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(hex, want);
    }
}
