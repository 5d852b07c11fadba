//! [`Label`]: an 11-byte FAT volume label.

use std::fmt;
use std::str::FromStr;

/// A FAT volume label: 1 to 11 characters from `A-Z 0-9 space ! # $ % & ' ( ) - @ ^ _ ``
/// { } ~`, lowercase letters being upper-cased, not starting with a space.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label([u8; 11]);

/// Why a text is not a volume label.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LabelError {
    /// Empty, or longer than 11 characters.
    #[error("a volume label has 1 to 11 characters, not {0}")]
    Length(usize),
    /// A character FAT does not allow in a label.
    #[error(
        "{0:?} is not allowed in a volume label (A-Z 0-9 space ! # $ % & ' ( ) - @ ^ _ ` {{ }} ~)"
    )]
    Character(char),
    /// Starts with a space.
    #[error("a volume label cannot start with a space")]
    LeadingSpace,
}

impl Label {
    /// The 11 bytes, space-padded.
    pub fn as_bytes(&self) -> &[u8; 11] {
        &self.0
    }
}

impl Default for Label {
    /// [`crate::DEFAULT_LABEL`].
    fn default() -> Self {
        Self(*b"VUSBKEY    ")
    }
}

impl FromStr for Label {
    type Err = LabelError;

    fn from_str(text: &str) -> Result<Self, LabelError> {
        let upper = text.to_ascii_uppercase();
        if upper.is_empty() || upper.len() > 11 {
            return Err(LabelError::Length(text.chars().count()));
        }
        if let Some(bad) = upper.chars().find(|c| {
            !(c.is_ascii_uppercase() || c.is_ascii_digit() || " !#$%&'()-@^_`{}~".contains(*c))
        }) {
            return Err(LabelError::Character(bad));
        }
        if upper.starts_with(' ') {
            return Err(LabelError::LeadingSpace);
        }
        let mut bytes = [b' '; 11];
        bytes[..upper.len()].copy_from_slice(upper.as_bytes());
        Ok(Self(bytes))
    }
}

impl fmt::Display for Label {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(String::from_utf8_lossy(&self.0).trim_end())
    }
}
