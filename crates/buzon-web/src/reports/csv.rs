//! CSV exports (RFC 4180): every field quoted when it needs to be, and text that a
//! spreadsheet would run as a formula defused with a leading apostrophe.

/// A CSV document being written, header first.
pub(crate) struct Csv {
    text: String,
}

impl Csv {
    /// A document with the given header row.
    pub(crate) fn new(header: &[&str]) -> Csv {
        let mut csv = Csv {
            text: String::new(),
        };
        csv.row(header.iter().map(|field| (*field).to_owned()));
        csv
    }

    /// Appends one row.
    pub(crate) fn row(&mut self, fields: impl IntoIterator<Item = String>) {
        let mut first = true;
        for field in fields {
            if !first {
                self.text.push(',');
            }
            first = false;
            self.text.push_str(&field_text(&field));
        }
        self.text.push_str("\r\n");
    }

    /// The document.
    pub(crate) fn finish(self) -> String {
        self.text
    }
}

fn field_text(field: &str) -> String {
    let defused = if field.starts_with(['=', '+', '@', '\t', '\r'])
        || (field.starts_with('-') && field.parse::<f64>().is_err())
    {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

/// An optional number as a field: empty when absent.
pub(crate) fn number(value: Option<i64>) -> String {
    value.map(|value| value.to_string()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_quoted_and_formulas_defused() {
        let mut csv = Csv::new(&["name", "value"]);
        csv.row(["=HYPERLINK(\"x\")".to_owned(), "-12".to_owned()]);
        csv.row(["a,b".to_owned(), "-cmd".to_owned()]);
        assert_eq!(
            csv.finish(),
            "name,value\r\n\"'=HYPERLINK(\"\"x\"\")\",-12\r\n\"a,b\",'-cmd\r\n"
        );
    }
}
