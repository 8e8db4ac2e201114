//! The versioned project file: the one serialisation boundary for a whole project (labels,
//! classes, history, settings, optionally the head). JSON; `format` says it is ours, `version`
//! which layout it has. Reading checks everything before anything is used, so a bad file changes
//! nothing.

use crate::acquire::{StrategyKind, Subpool};
use crate::head::SoftmaxHead;
use crate::model::ModelChoice;
use crate::session::SessionSnapshot;
use crate::{Error, Result, Session};

/// The `format` of every project file.
pub const FORMAT: &str = "quarry-project";
/// The version this build writes; it reads every version from 1 up to this one.
pub const VERSION: u32 = 1;

/// A project as saved.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ProjectFile {
    /// Always [`FORMAT`].
    pub format: String,
    /// The layout version, [`VERSION`] when written by this build.
    pub version: u32,
    /// Human title.
    pub title: String,
    /// Items, classes, answers, history, queue.
    pub session: SessionSnapshot,
    /// The strategy chosen.
    #[serde(default)]
    pub strategy: StrategyKind,
    /// The large-pool setting.
    #[serde(default)]
    pub subpool: Subpool,
    /// The model that embedded the items (a model the person brought is named by its file,
    /// which they give again).
    #[serde(default)]
    pub model: Option<ModelChoice>,
    /// The head trained on the labels, when saved with it.
    #[serde(default)]
    pub head: Option<SoftmaxHead>,
}

/// A project read back: the session rebuilt and checked, the rest as saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub title: String,
    pub session: Session,
    pub strategy: StrategyKind,
    pub subpool: Subpool,
    pub model: Option<ModelChoice>,
    pub head: Option<SoftmaxHead>,
}

fn bad(reason: String) -> Error {
    Error::Format {
        what: "project file",
        reason,
    }
}

/// Writes `session` and the settings as a project file of the current [`VERSION`].
pub fn write_project(
    title: &str,
    session: &Session,
    strategy: StrategyKind,
    subpool: Subpool,
    model: Option<&ModelChoice>,
    head: Option<&SoftmaxHead>,
) -> String {
    let file = ProjectFile {
        format: FORMAT.into(),
        version: VERSION,
        title: title.into(),
        session: session.snapshot(),
        strategy,
        subpool,
        model: model.cloned(),
        head: head.cloned(),
    };
    serde_json::to_string(&file).expect("project data always serialises")
}

/// Reads a project file of any supported version.
///
/// # Errors
/// [`Error::Format`] with a specific reason: not JSON; JSON that is not a Quarry project; a
/// version this build does not know (newer or invalid); a missing field or a value of the wrong
/// type (named, with its line and column); a session that breaks an invariant (e.g. a class
/// number out of range); a head whose shape does not fit the classes.
pub fn read_project(text: &str) -> Result<Project> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("it is not JSON ({e})")))?;
    let format = value.get("format").and_then(|f| f.as_str());
    if format != Some(FORMAT) {
        return Err(bad(
            "it is not a Quarry project (no \"format\": \"quarry-project\")".into(),
        ));
    }
    let version = value
        .get("version")
        .ok_or_else(|| bad("it has no version".into()))?
        .as_u64()
        .ok_or_else(|| bad("its version is not a whole number".into()))?;
    match version {
        0 => return Err(bad("version 0 does not exist".into())),
        v if v > u64::from(VERSION) => {
            return Err(bad(format!(
                "it was written by a newer Quarry (version {v}); this one reads up to version {VERSION}"
            )))
        }
        _ => {}
    }
    // Version 1 is the current layout; older layouts would be upgraded here.
    let file: ProjectFile = serde_json::from_value(value).map_err(|e| bad(format!("{e}")))?;
    let classes = file.session.classes.len();
    let session = Session::from_snapshot(file.session)?;
    if let Some(h) = &file.head {
        if !h.is_well_formed() {
            return Err(bad("the saved head's weights do not fit its shape".into()));
        }
        if h.classes() != classes {
            return Err(bad(format!(
                "the saved head has {} classes, the project {classes}",
                h.classes()
            )));
        }
    }
    Ok(Project {
        title: file.title,
        session,
        strategy: file.strategy,
        subpool: file.subpool,
        model: file.model,
        head: file.head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let items = (0..6).map(|i| format!("{i}.png")).collect();
        let mut s = Session::new(items, vec!["cat".into(), "dog".into()]).unwrap();
        s.set_queue(vec![4, 1, 2, 3, 5]);
        s.answer(1).unwrap();
        s.skip();
        s.reject();
        s.add_class("bird").unwrap();
        s.answer(2).unwrap();
        s
    }

    #[test]
    fn a_project_round_trips() {
        let s = session();
        let text = write_project("pets", &s, StrategyKind::Margin, Subpool::Off, None, None);
        let back = read_project(&text).unwrap();
        assert_eq!(back.session, s);
        assert_eq!(back.title, "pets");
        assert_eq!(back.strategy, StrategyKind::Margin);
        assert_eq!(back.subpool, Subpool::Off);
    }

    #[test]
    fn bad_files_get_specific_messages() {
        let good: serde_json::Value = serde_json::from_str(&write_project(
            "p",
            &session(),
            StrategyKind::Auto,
            Subpool::Auto,
            None,
            None,
        ))
        .unwrap();
        let msg = |v: &serde_json::Value| read_project(&v.to_string()).unwrap_err().to_string();
        assert!(read_project("PK\u{3}\u{4}")
            .unwrap_err()
            .to_string()
            .contains("not JSON"));
        assert!(read_project("{\"a\":1}")
            .unwrap_err()
            .to_string()
            .contains("not a Quarry project"));
        let mut v = good.clone();
        v["version"] = 7.into();
        assert!(msg(&v).contains("newer Quarry (version 7)"), "{}", msg(&v));
        v["version"] = "one".into();
        assert!(msg(&v).contains("not a whole number"));
        let mut v = good.clone();
        v["session"].as_object_mut().unwrap().remove("answers");
        assert!(msg(&v).contains("missing field `answers`"), "{}", msg(&v));
        let mut v = good.clone();
        v["session"]["multi_label"] = "yes".into();
        assert!(msg(&v).contains("invalid type"), "{}", msg(&v));
        let mut v = good.clone();
        v["session"]["answers"][0]["class"] = 9.into();
        assert!(msg(&v).contains("names class 9"), "{}", msg(&v));
        let mut v = good.clone();
        v["session"]["queue"] = serde_json::json!([4]);
        assert!(msg(&v).contains("queue holds item 4"), "{}", msg(&v));
        let mut v = good.clone();
        v["session"]["items"] = serde_json::json!([]);
        assert!(msg(&v).contains("no items"), "{}", msg(&v));
        let mut v = good;
        v["head"] = serde_json::json!({"classes": 3, "dim": 2, "weights": [0.0, 1.0]});
        assert!(msg(&v).contains("do not fit"), "{}", msg(&v));
    }
}
