//! Reading the TOML files an operator writes.

use serde::de::DeserializeOwned;

/// Parses TOML, naming the file and line of any error.
pub fn parse<T: DeserializeOwned>(origin: &str, text: &str) -> Result<T, String> {
    toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        let message = e.message().trim().replace('\n', " ");
        match line {
            Some(line) => format!("{origin}:{line}: {message}"),
            None => format!("{origin}: {message}"),
        }
    })
}
