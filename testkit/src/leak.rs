//! Searching text for credentials: the forms a known credential takes in a Secret or on the wire, and
//! credential-looking text whatever its value (`Basic …`, `Bearer …`, an Authorization header with a value).

use aho_corasick::AhoCorasick;
use base64::Engine;

/// Standard base64 of `s`.
pub fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// The forms of a credential to search for: itself, its base64 (as in a Secret's `data`) and, for each
/// account email, the base64 of `email:secret` (as in a Basic Authorization header).
pub fn forms(secret: &str, emails: &[&str]) -> Vec<String> {
    let mut out = vec![secret.to_string(), b64(secret)];
    out.extend(emails.iter().map(|e| b64(&format!("{e}:{secret}"))));
    out
}

/// Credential-looking text: `Basic <base64>`, `Bearer <token>`, or an Authorization header with a value.
pub fn credential_patterns(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    for scheme in ["Basic ", "Bearer "] {
        for (i, _) in text.match_indices(scheme) {
            let rest: String = text[i + scheme.len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || "+/=._-".contains(*c))
                .collect();
            if rest.len() >= 8 {
                found.push(format!("{scheme}{rest}"));
            }
        }
    }
    let lower = text.to_ascii_lowercase();
    for (i, _) in lower.match_indices("authorization") {
        let after = &text[i + "authorization".len()..];
        // A header or field: `authorization: …`, `"authorization":"…"`, `authorization=…`; not
        // `authorization.k8s.io/decision` or prose.
        let Some(value) = after
            .strip_prefix('"')
            .unwrap_or(after)
            .trim_start()
            .strip_prefix([':', '='])
        else {
            continue;
        };
        let value: String = value
            .trim_start_matches(['"', ' '])
            .chars()
            .take(40)
            .collect();
        if !value.starts_with("Sensitive")
            && value
                .split_whitespace()
                .next()
                .is_some_and(|w| w.len() > 12)
        {
            found.push(format!("authorization{}", &after[..after.len().min(60)]));
        }
    }
    found
}

/// Finds any of a set of forbidden strings in text.
pub struct Finder {
    strings: Vec<String>,
    automaton: AhoCorasick,
}

impl Finder {
    /// A finder of `strings` (none of them empty).
    pub fn new(strings: Vec<String>) -> Finder {
        assert!(
            strings.iter().all(|s| !s.is_empty()),
            "an empty forbidden string"
        );
        let automaton = AhoCorasick::new(&strings).expect("an automaton of the forbidden strings");
        Finder { strings, automaton }
    }

    /// How many strings it looks for.
    pub fn len(&self) -> usize {
        self.strings.len()
    }

    /// True when it looks for no string (it still finds credential-looking text).
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
    }

    /// Every forbidden string and credential-looking text in `text`, each with some context, prefixed with
    /// `place`.
    pub fn leaks(&self, place: &str, text: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .automaton
            .find_iter(text)
            .map(|m| {
                let from = text.floor_char_boundary(m.start().saturating_sub(120));
                let context: String = text[from..].chars().take(300).collect();
                format!(
                    "{place}: {:?} in …{context}…",
                    self.strings[m.pattern().as_usize()]
                )
            })
            .collect();
        out.extend(
            credential_patterns(text)
                .into_iter()
                .map(|c| format!("{place}: credential-looking {c:?}")),
        );
        out
    }
}
