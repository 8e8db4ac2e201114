//! Names that come from archives and go into them: every name Quarry takes from a zip, and
//! every name it writes into one, is a plain relative path — no `..`, no absolute paths, no
//! drive letters, `/` as the only separator, no empty segments — so no archive Quarry reads
//! can make it write outside a folder (a "zip-slip"), and none it makes can do that to
//! whoever unpacks it.

/// `raw` as a safe relative path: backslashes become `/`; empty, `.` and `..` segments and a
/// leading drive (`C:`) are dropped; control characters and `:` become `_`. `None` when
/// nothing is left.
pub fn safe_path(raw: &str) -> Option<String> {
    let mut segments: Vec<String> = Vec::new();
    for (k, segment) in raw.split(['/', '\\']).enumerate() {
        let drive = k == 0
            && segment.len() == 2
            && segment.ends_with(':')
            && segment.starts_with(|c: char| c.is_ascii_alphabetic());
        if segment.is_empty() || segment == "." || segment == ".." || drive {
            continue;
        }
        segments.push(
            segment
                .chars()
                .map(|c| if c.is_control() || c == ':' { '_' } else { c })
                .collect(),
        );
    }
    (!segments.is_empty()).then(|| segments.join("/"))
}

/// Gives out each name once: a name seen before gets ` (2)`, ` (3)`… before its extension.
#[derive(Debug, Default)]
pub struct UniqueNames {
    seen: std::collections::BTreeSet<String>,
}

impl UniqueNames {
    /// `path`, or the first free `stem (k).ext`.
    pub fn take(&mut self, path: &str) -> String {
        let (stem, ext) = match path.rfind('.') {
            Some(dot) if dot > path.rfind('/').map_or(0, |s| s + 1) => path.split_at(dot),
            _ => (path, ""),
        };
        let mut candidate = path.to_string();
        let mut k = 2;
        while !self.seen.insert(candidate.clone()) {
            candidate = format!("{stem} ({k}){ext}");
            k += 1;
        }
        candidate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_names_become_plain_relative_paths() {
        for (raw, safe) in [
            ("cats/a.png", Some("cats/a.png")),
            ("../../evil.png", Some("evil.png")),
            ("/etc/passwd.png", Some("etc/passwd.png")),
            ("a/./b/../c.png", Some("a/b/c.png")),
            ("C:\\Windows\\x.png", Some("Windows/x.png")),
            ("dir\\sub//x.png", Some("dir/sub/x.png")),
            ("a\u{0}b:c.png", Some("a_b_c.png")),
            ("../..", None),
            ("", None),
        ] {
            assert_eq!(safe_path(raw).as_deref(), safe, "{raw:?}");
        }
        for raw in ["../x", "/x", "a/../../x", "\\\\server\\share\\x", "C:/x"] {
            let s = safe_path(raw).unwrap();
            assert!(!s.starts_with('/') && !s.split('/').any(|p| p == ".." || p.is_empty()));
        }
    }

    #[test]
    fn repeated_names_are_numbered() {
        let mut u = UniqueNames::default();
        assert_eq!(u.take("a/x.png"), "a/x.png");
        assert_eq!(u.take("a/x.png"), "a/x (2).png");
        assert_eq!(u.take("a/x.png"), "a/x (3).png");
        assert_eq!(u.take("a.b/noext"), "a.b/noext");
        assert_eq!(u.take("a.b/noext"), "a.b/noext (2)");
    }
}
