//! The versioned project file: the one serialisation boundary for a whole project (labels,
//! classes, history, settings, optionally the head). JSON; `format` says it is ours, `version`
//! which layout it has. Reading checks everything before anything is used, so a bad file changes
//! nothing.

use crate::acquire::{StrategyKind, Subpool};
use crate::audit::AuditSettings;
use crate::head::SoftmaxHead;
use crate::keys::KeyChoices;
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
    /// Where the items came from, so reopening knows what to ask for.
    #[serde(default)]
    pub source: Option<ItemSource>,
    /// The head trained on the labels, when saved with it.
    #[serde(default)]
    pub head: Option<SoftmaxHead>,
    /// Audit questions (absent in files from before audits: they start with the recommended
    /// share).
    #[serde(default = "recommended_audit")]
    pub audit: AuditSettings,
    /// Always the full class list: candidate set queries off (absent: on).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub full_list: bool,
    /// The person's own keys for classes (by class id) and commands (absent: the defaults).
    #[serde(default, skip_serializing_if = "keys_are_default")]
    pub keys: KeyChoices,
}

fn keys_are_default(keys: &KeyChoices) -> bool {
    *keys == KeyChoices::default()
}

fn recommended_audit() -> AuditSettings {
    AuditSettings::RECOMMENDED
}

/// Where a project's items come from. Item names are the files' paths (images) or `#row`
/// (texts); the files themselves are never in a project file.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum ItemSource {
    /// A demo bundled with the app, by its folder name.
    Demo { name: String },
    /// Image files or a folder the person opened.
    Files,
    /// One zip of images, by file name.
    Zip { name: String },
    /// The rows of a text file (with an empty text left out), by file name and text column.
    Texts {
        name: String,
        #[serde(default)]
        column: String,
    },
}

/// Everything of a project beside its session and head.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Settings {
    pub title: String,
    pub strategy: StrategyKind,
    pub subpool: Subpool,
    pub model: Option<ModelChoice>,
    pub source: Option<ItemSource>,
    pub audit: AuditSettings,
    /// Always the full class list (candidate set queries off).
    pub full_list: bool,
    /// The person's own keys.
    pub keys: KeyChoices,
}

/// A project read back: the session rebuilt and checked, the rest as saved.
#[derive(Debug, Clone, PartialEq)]
pub struct Project {
    pub settings: Settings,
    pub session: Session,
    pub head: Option<SoftmaxHead>,
}

fn bad(reason: String) -> Error {
    Error::Format {
        what: "project file",
        reason,
    }
}

fn file(session: SessionSnapshot, settings: &Settings, head: Option<&SoftmaxHead>) -> ProjectFile {
    ProjectFile {
        format: FORMAT.into(),
        version: VERSION,
        title: settings.title.clone(),
        session,
        strategy: settings.strategy,
        subpool: settings.subpool,
        model: settings.model.clone(),
        source: settings.source.clone(),
        head: head.cloned(),
        audit: settings.audit,
        full_list: settings.full_list,
        keys: settings.keys.clone(),
    }
}

/// Writes `session` and `settings` as a project file of the current [`VERSION`].
pub fn write_project(session: &Session, settings: &Settings, head: Option<&SoftmaxHead>) -> String {
    let file = file(session.snapshot(), settings, head);
    serde_json::to_string(&file).expect("project data always serialises")
}

/// Writes the project as [`write_project`] does but without its item names, which do not
/// change: storage that is written after every answer keeps them once, beside it, and reads
/// both back with [`read_stored`]. What it writes grows with the answers, not the pool.
pub fn write_progress(session: &Session, settings: &Settings) -> String {
    let snapshot = session.snapshot_without_items();
    serde_json::to_string(&file(snapshot, settings, None)).expect("project data always serialises")
}

/// Reads what [`write_progress`] wrote, with the item names kept beside it, as one project,
/// checked as [`read_project`] checks a file.
///
/// # Errors
/// As [`read_project`], and when the progress already names items.
pub fn read_stored(progress: &str, items: Vec<String>) -> Result<Project> {
    let mut value = parse(progress)?;
    let slot = value
        .get_mut("session")
        .and_then(|s| s.as_object_mut())
        .ok_or_else(|| bad("it has no session".into()))?;
    if slot
        .get("items")
        .is_some_and(|i| i.as_array().is_none_or(|a| !a.is_empty()))
    {
        return Err(bad("its progress names items of its own".into()));
    }
    slot.insert("items".into(), items.into());
    read_value(value)
}

/// Reads a project file of any supported version.
///
/// # Errors
/// [`Error::Format`] with a specific reason: not JSON; JSON that is not a Quarry project; a
/// version this build does not know (newer or invalid); a missing field or a value of the wrong
/// type (named, with its line and column); a session that breaks an invariant (e.g. a class
/// number out of range); a head whose shape does not fit the classes.
pub fn read_project(text: &str) -> Result<Project> {
    read_value(parse(text)?)
}

/// `text` as JSON that says it is a project of a version this build reads.
fn parse(text: &str) -> Result<serde_json::Value> {
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
    Ok(value)
}

fn read_value(value: serde_json::Value) -> Result<Project> {
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
        settings: Settings {
            title: file.title,
            strategy: file.strategy,
            subpool: file.subpool,
            model: file.model,
            source: file.source,
            audit: file.audit,
            full_list: file.full_list,
            keys: file.keys,
        },
        session,
        head: file.head,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session() -> Session {
        let items: Vec<String> = (0..6).map(|i| format!("{i}.png")).collect();
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
        let settings = Settings {
            title: "pets".into(),
            strategy: StrategyKind::Margin,
            subpool: Subpool::Off,
            model: None,
            source: Some(ItemSource::Zip {
                name: "pets.zip".into(),
            }),
            audit: AuditSettings::RECOMMENDED,
            full_list: true,
            keys: {
                let mut k = KeyChoices::default();
                k.classes.insert(2, "b".into());
                k.commands.insert(crate::keys::Command::Skip, "k".into());
                k
            },
        };
        let back = read_project(&write_project(&s, &settings, None)).unwrap();
        assert_eq!(back.session, s);
        assert_eq!(back.settings, settings);
    }

    #[test]
    fn progress_is_stored_without_the_items_and_read_back_with_them() {
        let s = session();
        let settings = Settings {
            title: "pets".into(),
            ..Settings::default()
        };
        let progress = write_progress(&s, &settings);
        assert!(!progress.contains("0.png"), "{progress}");
        let items: Vec<String> = (0..6).map(|i| format!("{i}.png")).collect();
        let back = read_stored(&progress, items.clone()).unwrap();
        assert_eq!((back.session, back.settings), (s, settings));
        let short = read_stored(&progress, items[..3].to_vec()).unwrap_err();
        assert!(short.to_string().contains("there are 3 items"), "{short}");
        let full = write_project(&session(), &Settings::default(), None);
        assert!(read_stored(&full, items)
            .unwrap_err()
            .to_string()
            .contains("names items"));
        assert!(read_stored("{}", Vec::new()).is_err());
    }

    #[test]
    fn bad_files_get_specific_messages() {
        let good: serde_json::Value =
            serde_json::from_str(&write_project(&session(), &Settings::default(), None)).unwrap();
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
