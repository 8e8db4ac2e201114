//! Keyboard keys for classes and commands: the defaults, the person's own choices (saved with
//! the project), and which key does what.
//!
//! Defaults: the first nine classes are `1`–`9`; the next ones take the letters of
//! [`CLASS_LETTERS`] in order (no letter a command uses by default), so 29 classes have a key
//! without any setting. A person may give any class or command another single key; a key
//! bound twice is refused. Class choices follow the class's id, so renaming or reordering
//! classes keeps them.

use std::collections::BTreeMap;

use crate::error::{Error, Result};

/// Letters given to the 10th class onwards, in order.
pub const CLASS_LETTERS: &str = "qwertyuiodfghjklxcvb";

/// Keys no class or command may take: digit 0 ("Not here"), Space, Enter, Backspace, `?`
/// (the shortcuts list), Escape.
const RESERVED: [&str; 6] = ["0", " ", "Enter", "Backspace", "?", "Escape"];

/// A command with a key of its own.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "kebab-case")]
pub enum Command {
    /// Accept the model's guess (Enter also does).
    Accept,
    /// None of these classes.
    NoneOfThese,
    /// Skip the item (Space also does).
    Skip,
    /// "More like this".
    MoreLikeThis,
}

impl Command {
    pub const ALL: [Command; 4] = [
        Command::Accept,
        Command::NoneOfThese,
        Command::Skip,
        Command::MoreLikeThis,
    ];

    /// Its key when the person has not chosen one.
    pub fn default_key(self) -> &'static str {
        match self {
            Command::Accept => "a",
            Command::NoneOfThese => "n",
            Command::Skip => "s",
            Command::MoreLikeThis => "m",
        }
    }

    /// What it does, in words.
    pub fn describe(self) -> &'static str {
        match self {
            Command::Accept => "accept the model's guess",
            Command::NoneOfThese => "none of these classes",
            Command::Skip => "skip this item",
            Command::MoreLikeThis => "More like this",
        }
    }
}

/// The person's own keys (only what differs from the defaults is kept), saved with the
/// project.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeyChoices {
    /// Class id → key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub classes: BTreeMap<u32, String>,
    /// Command → key.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub commands: BTreeMap<Command, String>,
}

/// What a key does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Answer (or in bulk, label with) the class at this index of the class list.
    Class(usize),
    Command(Command),
}

/// The keys in force for a class list: defaults overlaid with the person's choices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyMap {
    /// Key of each class, in class-list order (`None`: no key).
    pub classes: Vec<Option<String>>,
    /// Key of each command, in [`Command::ALL`] order.
    pub commands: Vec<String>,
}

/// A key as matched: one character keys without case (`Q` is `q`), named keys as they are.
fn normal(key: &str) -> String {
    if key.chars().count() == 1 {
        key.to_lowercase()
    } else {
        key.to_string()
    }
}

impl KeyMap {
    /// The keys for classes with ids `class_ids` (in list order) under `choices`. A choice for
    /// a class no longer there is ignored; a default that a choice took elsewhere is dropped.
    pub fn new(class_ids: &[u32], choices: &KeyChoices) -> KeyMap {
        let commands: Vec<String> = Command::ALL
            .iter()
            .map(|c| {
                choices
                    .commands
                    .get(c)
                    .cloned()
                    .unwrap_or_else(|| c.default_key().to_string())
            })
            .collect();
        let chosen: Vec<&String> = choices
            .classes
            .iter()
            .filter(|(id, _)| class_ids.contains(id))
            .map(|(_, k)| k)
            .collect();
        let mut letters = CLASS_LETTERS.chars().map(String::from);
        let classes = class_ids
            .iter()
            .enumerate()
            .map(|(k, id)| {
                if let Some(key) = choices.classes.get(id) {
                    return Some(key.clone());
                }
                let default = if k < 9 {
                    Some((k + 1).to_string())
                } else {
                    letters.next()
                };
                default.filter(|d| {
                    !chosen.iter().any(|c| normal(c) == normal(d))
                        && !commands.iter().any(|c| normal(c) == normal(d))
                })
            })
            .collect();
        KeyMap { classes, commands }
    }

    /// What `key` (a `KeyboardEvent.key`) does, if anything.
    pub fn action(&self, key: &str) -> Option<Action> {
        let key = normal(key);
        if let Some(k) = self
            .classes
            .iter()
            .position(|c| c.as_deref().map(normal).as_deref() == Some(key.as_str()))
        {
            return Some(Action::Class(k));
        }
        Command::ALL
            .iter()
            .zip(&self.commands)
            .find(|(_, c)| normal(c) == key)
            .map(|(&c, _)| Action::Command(c))
    }

    /// The key of command `command`.
    pub fn command(&self, command: Command) -> &str {
        let at = Command::ALL.iter().position(|&c| c == command).unwrap_or(0);
        &self.commands[at]
    }
}

/// Whether `key` may be bound at all: one printable character other than the reserved ones.
fn check_key(key: &str) -> Result<String> {
    let key = normal(key);
    if key.chars().count() != 1 || key.chars().any(char::is_control) {
        return Err(Error::Invalid(format!(
            "“{key}” is not one key: choose a letter, a digit or a sign"
        )));
    }
    if RESERVED.contains(&key.as_str()) {
        return Err(Error::Invalid(format!(
            "“{key}” is kept for something else (0 is “Not here”, ? the shortcuts list, Space \
             skips, Enter accepts)"
        )));
    }
    Ok(key)
}

impl KeyChoices {
    /// Gives class `id` (of the list `class_ids`, names `names`) the key `key`, or back its
    /// default with `None`.
    ///
    /// # Errors
    /// [`Error::Invalid`] when the key is not one plain key, is reserved, or already does
    /// something else (naming what).
    pub fn set_class(
        &mut self,
        class_ids: &[u32],
        names: &[String],
        id: u32,
        key: Option<&str>,
    ) -> Result<()> {
        let Some(key) = key else {
            self.classes.remove(&id);
            return Ok(());
        };
        let key = check_key(key)?;
        let current = KeyMap::new(class_ids, self);
        let me = class_ids.iter().position(|&c| c == id);
        match current.action(&key) {
            Some(Action::Class(k)) if Some(k) != me => {
                return Err(Error::Invalid(format!(
                    "“{key}” already answers “{}”",
                    names.get(k).map_or("another class", String::as_str)
                )))
            }
            Some(Action::Command(c)) => {
                return Err(Error::Invalid(format!(
                    "“{key}” already means “{}”",
                    c.describe()
                )))
            }
            _ => {}
        }
        self.classes.insert(id, key);
        Ok(())
    }

    /// Gives command `command` the key `key` (`None`: its default back, if no class took it).
    ///
    /// # Errors
    /// As [`KeyChoices::set_class`].
    pub fn set_command(
        &mut self,
        class_ids: &[u32],
        names: &[String],
        command: Command,
        key: Option<&str>,
    ) -> Result<()> {
        let key = check_key(key.unwrap_or(command.default_key()))?;
        let current = KeyMap::new(class_ids, self);
        match current.action(&key) {
            Some(Action::Class(k)) => {
                // A class's default key gives way only if it is a letter default; a digit or
                // a chosen key stays with its class.
                let chosen = self.classes.contains_key(&class_ids[k]);
                if chosen || k < 9 {
                    return Err(Error::Invalid(format!(
                        "“{key}” already answers “{}”",
                        names.get(k).map_or("a class", String::as_str)
                    )));
                }
            }
            Some(Action::Command(c)) if c != command => {
                return Err(Error::Invalid(format!(
                    "“{key}” already means “{}”",
                    c.describe()
                )))
            }
            _ => {}
        }
        if key == command.default_key() {
            self.commands.remove(&command);
        } else {
            self.commands.insert(command, key);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(n: usize) -> Vec<String> {
        (0..n).map(|k| format!("c{k}")).collect()
    }

    #[test]
    fn defaults_give_digits_then_letters_no_command_uses() {
        let ids: Vec<u32> = (0..31).collect();
        let map = KeyMap::new(&ids, &KeyChoices::default());
        assert_eq!(map.classes[0].as_deref(), Some("1"));
        assert_eq!(map.classes[8].as_deref(), Some("9"));
        assert_eq!(map.classes[9].as_deref(), Some("q"));
        assert_eq!(map.classes[28].as_deref(), Some("b"));
        assert_eq!(map.classes[29], None);
        assert_eq!(map.action("Q"), Some(Action::Class(9)));
        assert_eq!(map.action("s"), Some(Action::Command(Command::Skip)));
        assert_eq!(map.action("0"), None);
        for c in Command::ALL {
            assert!(!CLASS_LETTERS.contains(c.default_key()));
        }
    }

    #[test]
    fn choices_follow_class_ids_and_refuse_clashes() {
        let ids = vec![7, 3, 9];
        let n = names(3);
        let mut choices = KeyChoices::default();
        choices.set_class(&ids, &n, 9, Some("X")).unwrap();
        let map = KeyMap::new(&ids, &choices);
        assert_eq!(map.action("x"), Some(Action::Class(2)));
        // Reordered classes: the key stays with the class.
        let map = KeyMap::new(&[9, 7, 3], &choices);
        assert_eq!(map.action("x"), Some(Action::Class(0)));
        // A clash names what holds the key.
        let e = choices.set_class(&ids, &n, 7, Some("x")).unwrap_err();
        assert!(e.to_string().contains("c2"), "{e}");
        let e = choices.set_class(&ids, &n, 7, Some("s")).unwrap_err();
        assert!(e.to_string().contains("skip"), "{e}");
        assert!(choices.set_class(&ids, &n, 7, Some("0")).is_err());
        assert!(choices.set_class(&ids, &n, 7, Some("ab")).is_err());
        // Back to the default.
        choices.set_class(&ids, &n, 9, None).unwrap();
        assert_eq!(
            KeyMap::new(&ids, &choices).action("3"),
            Some(Action::Class(2))
        );
    }

    #[test]
    fn a_command_may_move_and_free_its_key() {
        let ids: Vec<u32> = (0..12).collect();
        let n = names(12);
        let mut choices = KeyChoices::default();
        choices
            .set_command(&ids, &n, Command::Skip, Some("k"))
            .unwrap();
        let map = KeyMap::new(&ids, &choices);
        assert_eq!(map.action("k"), Some(Action::Command(Command::Skip)));
        assert_eq!(map.action("s"), None);
        // A letter default gives way; the class has no key now, and can be given one.
        choices
            .set_command(&ids, &n, Command::Accept, Some("q"))
            .unwrap();
        let map = KeyMap::new(&ids, &choices);
        assert_eq!(map.classes[9], None);
        assert_eq!(map.action("q"), Some(Action::Command(Command::Accept)));
        choices.set_class(&ids, &n, 9, Some("s")).unwrap();
        assert_eq!(
            KeyMap::new(&ids, &choices).action("s"),
            Some(Action::Class(9))
        );
        // A digit stays with its class.
        assert!(choices
            .set_command(&ids, &n, Command::NoneOfThese, Some("4"))
            .is_err());
        // Its default back — not while a class holds it.
        assert!(choices.set_command(&ids, &n, Command::Skip, None).is_err());
        choices.set_class(&ids, &n, 9, None).unwrap();
        choices.set_command(&ids, &n, Command::Skip, None).unwrap();
        assert!(!choices.commands.contains_key(&Command::Skip));
        assert_eq!(
            KeyMap::new(&ids, &choices).action("s"),
            Some(Action::Command(Command::Skip))
        );
    }
}
