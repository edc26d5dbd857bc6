//! Keeps secrets out of everything the library stores or logs.
//!
//! A server may echo the request's Authorization value back (in an error body, a header, even a
//! 2xx body). Every piece of text that comes from the server passes through [`Secrets::redact`]
//! once, where the reply enters the client, before it is kept on a result, put in a message or
//! logged; nothing downstream needs to think about it.

use std::borrow::Cow;

/// What replaces a secret in server text.
pub const REDACTED: &str = "<redacted>";
/// Parts shorter than this are not redacted: real tokens are hundreds of bytes, and replacing every
/// occurrence of a short string (say a one-letter test token) would garble the message for nothing.
pub const MIN_SECRET_BYTES: usize = 6;

/// The secret parts of one Authorization value: the whole value, what follows the scheme
/// (`x=<hash>;<token>`) and the token after the first `;`.
#[derive(Clone, Debug, Default)]
pub struct Secrets {
    parts: Vec<String>,
    /// For each part, a shorter part inside it, if any: where that one is absent, so is this
    /// one. The parts of one Authorization value all end with its token, so text without the
    /// token is searched once, not once per part.
    witness: Vec<Option<usize>>,
}

impl Secrets {
    pub const fn none() -> Secrets {
        Secrets { parts: Vec::new(), witness: Vec::new() }
    }

    pub fn of_authorization(value: Option<&str>) -> Secrets {
        let mut s = Secrets::default();
        if let Some(v) = value {
            s.add(v);
            if let Some((_, rest)) = v.split_once(' ') {
                s.add(rest.trim());
                if let Some(x) = rest.trim().strip_prefix("x=") {
                    s.add(x);
                }
            }
            if let Some((_, token)) = v.split_once(';') {
                s.add(token.trim());
            }
        }
        s
    }

    /// Adds another secret (e.g. a request signature).
    pub fn add(&mut self, part: &str) {
        if part.len() >= MIN_SECRET_BYTES && !self.parts.iter().any(|p| p == part) {
            self.parts.push(part.to_string());
            // Longest first, so a part inside a longer one does not leave the rest behind.
            self.parts.sort_by_key(|p| std::cmp::Reverse(p.len()));
            // The shortest other part inside each part (parts are distinct, so it is shorter).
            self.witness = (0..self.parts.len())
                .map(|i| (i + 1..self.parts.len()).rev().find(|&j| self.parts[i].contains(self.parts[j].as_str())))
                .collect();
        }
    }

    /// `text` with every secret part replaced by [`REDACTED`].
    pub fn redact<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let mut out = Cow::Borrowed(text);
        // Witnesses found absent from `text` (bit w: part w), while nothing was replaced yet. A
        // witness is always a later part than those it speaks for (it is shorter), so only what
        // was learnt about a witness is ever used again.
        let mut absent: u64 = 0;
        for (i, p) in self.parts.iter().enumerate() {
            if matches!(out, Cow::Borrowed(_)) && i < 64 {
                if absent & (1 << i) != 0 {
                    continue;
                }
                if let Some(w) = self.witness[i].filter(|&w| w < 64) {
                    if absent & (1 << w) == 0 && !found(text, &self.parts[w]) {
                        absent |= 1 << w;
                    }
                    if absent & (1 << w) != 0 {
                        continue; // the shorter part inside this one is absent: so is this one
                    }
                }
            }
            if found(&out, p) {
                out = Cow::Owned(out.replace(p.as_str(), REDACTED));
            }
        }
        out
    }

    /// As [`Secrets::redact`], into an owned string.
    pub fn redact_owned(&self, text: String) -> String {
        match self.redact(&text) {
            Cow::Borrowed(_) => text,
            Cow::Owned(o) => o,
        }
    }
}

/// Whether `part` is in `hay` (the unit tests count the searches: what the witnesses save).
fn found(hay: &str, part: &str) -> bool {
    #[cfg(test)]
    tests::SEARCHES.with(|n| n.set(n.get() + 1));
    hay.contains(part)
}

#[cfg(test)]
mod tests {
    use super::*;

    thread_local! {
        pub(super) static SEARCHES: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
    }

    /// `s.redact(text)` and how many searches it made.
    fn counted<'a>(s: &Secrets, text: &'a str) -> (Cow<'a, str>, usize) {
        SEARCHES.with(|n| n.set(0));
        let r = s.redact(text);
        (r, SEARCHES.with(|n| n.get()))
    }

    #[test]
    fn text_without_the_token_is_searched_once_whatever_the_number_of_parts_holding_it() {
        let mut s = Secrets::of_authorization(Some("XBL3.0 x=userhash;secret-token-123"));
        assert!(s.parts.len() >= 3, "{:?}", s.parts);
        let (r, n) = counted(&s, "an ordinary answer");
        assert!(matches!(r, Cow::Borrowed("an ordinary answer")));
        assert_eq!(n, 1, "only the token is searched: every other part holds it");
        // A part without a shorter part inside it is searched for itself: one search more.
        s.add("signature-xyz");
        assert_eq!(counted(&s, "an ordinary answer").1, 2);
        // When the token is there, every part is looked for (and the whole value found).
        let (r, n) = counted(&s, "echo XBL3.0 x=userhash;secret-token-123");
        assert_eq!(r, "echo <redacted>");
        assert!(n > 2, "{n}");
    }

    #[test]
    fn more_than_64_parts_are_all_redacted() {
        // The witness bits cover the first 64 parts; later ones are searched for themselves. Parts
        // 0..=63 all hold part 64 (the shortest run of 'a'), the witness just past the bits.
        let mut s = Secrets::default();
        for n in (36..=100).rev() {
            s.add(&"a".repeat(n));
        }
        for n in (31..=35).rev() {
            s.add(&"b".repeat(n));
        }
        assert_eq!(s.parts.len(), 70);
        assert_eq!(s.witness[0], Some(64));
        assert_eq!(s.redact(&"a".repeat(100)), REDACTED);
        assert_eq!(s.redact(&format!("x{}x", "a".repeat(36))), format!("x{REDACTED}x"));
        assert_eq!(s.redact(&"b".repeat(31)), REDACTED);
        assert!(matches!(s.redact("neither"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_part_of_the_authorization_value_is_redacted() {
        let s = Secrets::of_authorization(Some("XBL3.0 x=userhash;secret-token-123"));
        assert_eq!(s.redact("echo: XBL3.0 x=userhash;secret-token-123 !"), "echo: <redacted> !");
        assert_eq!(s.redact("x=userhash;secret-token-123"), "<redacted>");
        assert_eq!(s.redact("token secret-token-123 twice secret-token-123"), "token <redacted> twice <redacted>");
        assert_eq!(s.redact("nothing here"), "nothing here");
        assert!(matches!(s.redact("nothing here"), Cow::Borrowed(_)));
    }

    #[test]
    fn parts_are_found_whichever_shorter_parts_they_contain() {
        let mut s = Secrets::of_authorization(Some("XBL3.0 x=userhash;secret-token-123"));
        s.add("signature-xyz");
        // Every part contains the token, which is searched first: absent, nothing is searched again.
        assert_eq!(s.witness.iter().filter(|w| w.is_some()).count(), 3, "{:?}", s.parts);
        assert!(matches!(s.redact("no secret, not even secret-token-12"), Cow::Borrowed(_)));
        assert_eq!(s.redact("sig signature-xyz"), "sig <redacted>");
        assert_eq!(s.redact("only secret-token-123 here"), "only <redacted> here");
        assert_eq!(s.redact("x=userhash;secret-token-123 and signature-xyz"), "<redacted> and <redacted>");
        // A part whose shorter part is absent is skipped, one with none is searched.
        let mut t = Secrets::default();
        t.add("abcdef-long");
        t.add("cdef-l");
        t.add("zzzzzz");
        assert_eq!(t.redact("abcdef-long zzzzzz"), "<redacted> <redacted>");
        assert_eq!(t.redact("cdef-l"), "<redacted>");
        assert!(matches!(t.redact("abcdef-xx"), Cow::Borrowed(_)));
        assert_eq!(t.redact("abcdef-lon"), "ab<redacted>on");
    }

    #[test]
    fn short_parts_are_left_alone() {
        let s = Secrets::of_authorization(Some("XBL3.0 x=u;t"));
        assert_eq!(s.redact("a t u XBL3.0 x=u;t"), "a t u <redacted>");
        assert_eq!(Secrets::none().redact("XBL3.0 x=u;t"), "XBL3.0 x=u;t");
    }
}
