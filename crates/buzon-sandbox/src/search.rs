//! X's search query language, the subset `GET /2/tweets/search/recent` takes here: keywords
//! (a tokenized, case-insensitive match against the post's words, hashtags and mentions),
//! `"exact phrases"`, `#hashtags`, `@mentions`, implicit AND by whitespace, `OR` (AND binds
//! tighter), parentheses, negation with a leading `-`, and the operators `is:retweet`,
//! `is:reply`, `lang:xx` and `from:username`. Invalid queries fail with X's messages
//! ("Reference to invalid operator 'foo'", "mismatched input 'EOF' expecting ')'", "Rules
//! must contain a non-negation term", …) and the 1-based character position X reports.

/// The longest query X's self-serve tiers accept, in characters.
pub(crate) const MAX_QUERY_CHARS: usize = 512;

/// A parsed search query.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SearchQuery {
    root: Node,
}

/// Why a query was refused: the message X puts in `errors[].message`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct QueryError {
    /// What went wrong, without X's prefix.
    pub reason: String,
    /// The 1-based character position X reports, when it reports one.
    pub position: Option<usize>,
}

impl QueryError {
    fn at(reason: impl Into<String>, position: usize) -> QueryError {
        QueryError {
            reason: reason.into(),
            position: Some(position),
        }
    }

    /// The whole message, as X words it.
    pub fn message(&self) -> String {
        match self.position {
            Some(position) => format!(
                "There were errors processing your request: {} (at position {position})",
                self.reason
            ),
            None => self.reason.clone(),
        }
    }
}

/// What a query is matched against: one post and what X knows about it.
pub(crate) struct Candidate<'a> {
    pub text: &'a str,
    pub lang: &'a str,
    pub author_id: &'a str,
    pub author_username: &'a str,
    pub is_retweet: bool,
    pub is_reply: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    /// A keyword: one or more words (`tiendabuzon.com` is two) that must appear in a row.
    Keyword(Vec<String>),
    /// `"an exact phrase"`, lowercased.
    Phrase(String),
    /// `#tag`, lowercased, without the `#`.
    Hashtag(String),
    /// `@user`, lowercased, without the `@`.
    Mention(String),
    IsRetweet,
    IsReply,
    Lang(String),
    From(String),
    Not(Box<Node>),
    And(Vec<Node>),
    Or(Vec<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum TokenKind {
    Open,
    Close,
    Or,
    Minus,
    Phrase(String),
    Word(String),
}

#[derive(Debug, Clone)]
struct Token {
    kind: TokenKind,
    /// 1-based character position.
    position: usize,
}

impl SearchQuery {
    /// Parses `text` with X's rules; the errors carry X's messages.
    pub fn parse(text: &str) -> Result<SearchQuery, QueryError> {
        if text.trim().is_empty() {
            return Err(QueryError {
                reason: format!("Invalid 'query':'{text}'. 'query' must be a non-empty string"),
                position: None,
            });
        }
        let length = text.chars().count();
        if length > MAX_QUERY_CHARS {
            return Err(QueryError::at(
                format!("Query length {length} exceeds max allowed {MAX_QUERY_CHARS}"),
                MAX_QUERY_CHARS + 1,
            ));
        }
        let tokens = tokenize(text)?;
        let mut parser = Parser {
            tokens,
            next: 0,
            end: length + 1,
        };
        let root = parser.or_expression()?;
        if let Some(token) = parser.peek() {
            let shown = match &token.kind {
                TokenKind::Close => ")".to_string(),
                other => describe(other),
            };
            return Err(QueryError::at(
                format!("missing EOF at '{shown}'"),
                token.position,
            ));
        }
        // Every alternative needs a positive clause that can stand alone.
        if !root.standalone {
            return Err(match root.conjunction_operator {
                Some(position) => QueryError::at(
                    "is/has/lang cannot be used as a standalone operator",
                    position,
                ),
                None => QueryError::at("Rules must contain a non-negation term", 1),
            });
        }
        Ok(SearchQuery { root: root.node })
    }

    /// Whether the post matches.
    pub fn matches(&self, candidate: &Candidate<'_>) -> bool {
        let words = words(candidate.text);
        let lower = candidate.text.to_lowercase();
        evaluate(&self.root, candidate, &words, &lower)
    }
}

// ---- tokens --------------------------------------------------------------------------------

fn tokenize(text: &str) -> Result<Vec<Token>, QueryError> {
    let characters: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut index = 0;
    while index < characters.len() {
        let character = characters[index];
        let position = index + 1;
        if character.is_whitespace() {
            index += 1;
            continue;
        }
        match character {
            '(' => {
                tokens.push(Token {
                    kind: TokenKind::Open,
                    position,
                });
                index += 1;
            }
            ')' => {
                tokens.push(Token {
                    kind: TokenKind::Close,
                    position,
                });
                index += 1;
            }
            '"' => {
                let Some(length) = characters[index + 1..].iter().position(|c| *c == '"') else {
                    return Err(QueryError::at(
                        "mismatched character '<EOF>' expecting '\"'",
                        characters.len() + 1,
                    ));
                };
                let phrase: String = characters[index + 1..index + 1 + length].iter().collect();
                tokens.push(Token {
                    kind: TokenKind::Phrase(phrase),
                    position,
                });
                index += length + 2;
            }
            '-' => {
                let next = characters.get(index + 1);
                if next.is_none_or(|next| next.is_whitespace() || *next == ')') {
                    return Err(QueryError::at(
                        "no viable alternative at input '-'",
                        position,
                    ));
                }
                tokens.push(Token {
                    kind: TokenKind::Minus,
                    position,
                });
                index += 1;
            }
            '\'' | '[' | ']' | '{' | '}' => {
                return Err(QueryError::at(
                    format!("no viable alternative at character '{character}'"),
                    position,
                ));
            }
            _ => {
                let length = characters[index..]
                    .iter()
                    .position(|c| c.is_whitespace() || matches!(c, '(' | ')' | '"'))
                    .unwrap_or(characters.len() - index);
                let word: String = characters[index..index + length].iter().collect();
                let kind = match word.as_str() {
                    "OR" => TokenKind::Or,
                    "AND" => {
                        return Err(QueryError::at(
                            "Ambiguous use of and as a keyword. Use a space to logically join two clauses, or \"and\" to find occurrences of and in text",
                            position,
                        ));
                    }
                    _ => TokenKind::Word(word),
                };
                tokens.push(Token { kind, position });
                index += length;
            }
        }
    }
    Ok(tokens)
}

fn describe(kind: &TokenKind) -> String {
    match kind {
        TokenKind::Open => "(".to_string(),
        TokenKind::Close => ")".to_string(),
        TokenKind::Or => "OR".to_string(),
        TokenKind::Minus => "-".to_string(),
        TokenKind::Phrase(phrase) => format!("\"{phrase}\""),
        TokenKind::Word(word) => word.clone(),
    }
}

// ---- parsing -------------------------------------------------------------------------------

/// A node with the position of its first token (for errors about it).
struct Parsed {
    node: Node,
    position: usize,
    /// Whether it can stand alone: a positive clause that is not an `is:` or `lang:` operator.
    standalone: bool,
    /// The first positive `is:`/`lang:` operator in it, for X's standalone-operator error.
    conjunction_operator: Option<usize>,
}

struct Parser {
    tokens: Vec<Token>,
    next: usize,
    /// The position X reports for the end of the query.
    end: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next)
    }

    fn or_expression(&mut self) -> Result<Parsed, QueryError> {
        let mut alternatives = vec![self.and_expression()?];
        while let Some(token) = self.peek() {
            if token.kind != TokenKind::Or {
                break;
            }
            let position = token.position;
            self.next += 1;
            let dangling = self
                .peek()
                .is_none_or(|next| matches!(next.kind, TokenKind::Or | TokenKind::Close));
            if dangling {
                return Err(QueryError::at(
                    "no viable alternative at input 'OR'",
                    position,
                ));
            }
            alternatives.push(self.and_expression()?);
        }
        if alternatives.len() == 1 {
            return Ok(alternatives.remove(0));
        }
        let position = alternatives[0].position;
        let standalone = alternatives.iter().all(|parsed| parsed.standalone);
        let conjunction_operator = alternatives
            .iter()
            .find_map(|parsed| parsed.conjunction_operator);
        Ok(Parsed {
            node: Node::Or(alternatives.into_iter().map(|parsed| parsed.node).collect()),
            position,
            standalone,
            conjunction_operator,
        })
    }

    fn and_expression(&mut self) -> Result<Parsed, QueryError> {
        let mut clauses = Vec::new();
        while let Some(token) = self.peek() {
            if matches!(token.kind, TokenKind::Or | TokenKind::Close) {
                break;
            }
            clauses.push(self.unary()?);
        }
        match self.peek() {
            _ if !clauses.is_empty() => {}
            Some(token) => {
                let shown = describe(&token.kind);
                return Err(QueryError::at(
                    format!("no viable alternative at input '{shown}'"),
                    token.position,
                ));
            }
            None => {
                return Err(QueryError::at(
                    "mismatched input 'EOF' expecting a clause",
                    self.end,
                ))
            }
        }
        if clauses.len() == 1 {
            return Ok(clauses.remove(0));
        }
        let position = clauses[0].position;
        let standalone = clauses.iter().any(|parsed| parsed.standalone);
        let conjunction_operator = clauses
            .iter()
            .find_map(|parsed| parsed.conjunction_operator);
        Ok(Parsed {
            node: Node::And(clauses.into_iter().map(|parsed| parsed.node).collect()),
            position,
            standalone,
            conjunction_operator,
        })
    }

    fn unary(&mut self) -> Result<Parsed, QueryError> {
        let Some(token) = self.peek().cloned() else {
            return Err(QueryError::at(
                "mismatched input 'EOF' expecting a clause",
                self.end,
            ));
        };
        if token.kind == TokenKind::Minus {
            self.next += 1;
            let inner = self.primary()?;
            return Ok(Parsed {
                node: Node::Not(Box::new(inner.node)),
                position: token.position,
                standalone: false,
                conjunction_operator: None,
            });
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Parsed, QueryError> {
        let Some(token) = self.peek().cloned() else {
            return Err(QueryError::at(
                "mismatched input 'EOF' expecting a clause",
                self.end,
            ));
        };
        self.next += 1;
        let position = token.position;
        let clause = |node: Node| Parsed {
            node,
            position,
            standalone: true,
            conjunction_operator: None,
        };
        match token.kind {
            TokenKind::Open => {
                if self
                    .peek()
                    .is_some_and(|next| next.kind == TokenKind::Close)
                {
                    return Err(QueryError::at(
                        "no viable alternative at input '()'",
                        position,
                    ));
                }
                let inner = self.or_expression()?;
                match self.peek() {
                    Some(next) if next.kind == TokenKind::Close => {
                        self.next += 1;
                        Ok(Parsed { position, ..inner })
                    }
                    _ => Err(QueryError::at(
                        "mismatched input 'EOF' expecting ')'",
                        self.end,
                    )),
                }
            }
            TokenKind::Phrase(phrase) => Ok(clause(Node::Phrase(phrase.to_lowercase()))),
            TokenKind::Word(word) => word_clause(&word, position),
            TokenKind::Close | TokenKind::Or | TokenKind::Minus => Err(QueryError::at(
                format!("no viable alternative at input '{}'", describe(&token.kind)),
                position,
            )),
        }
    }
}

/// A bare word: a keyword, `#hashtag`, `@mention` or `operator:value`.
fn word_clause(word: &str, position: usize) -> Result<Parsed, QueryError> {
    let clause = |node: Node, standalone: bool| Parsed {
        node,
        position,
        standalone,
        conjunction_operator: (!standalone).then_some(position),
    };
    if let Some((name, value)) = word.split_once(':') {
        let invalid = |shown: &str| {
            QueryError::at(format!("Reference to invalid operator '{shown}'"), position)
        };
        return match name.to_lowercase().as_str() {
            "is" => match value.to_lowercase().as_str() {
                "retweet" => Ok(clause(Node::IsRetweet, false)),
                "reply" => Ok(clause(Node::IsReply, false)),
                _ => Err(invalid(word)),
            },
            "lang" if valid_language(value) => Ok(clause(Node::Lang(value.to_lowercase()), false)),
            "from" if valid_user(value.trim_start_matches('@')) => Ok(clause(
                Node::From(value.trim_start_matches('@').to_lowercase()),
                true,
            )),
            "lang" | "from" => Err(QueryError::at(
                format!("no viable alternative at input '{word}'"),
                position,
            )),
            "" => Err(QueryError::at(
                "no viable alternative at input ':'",
                position,
            )),
            _ => Err(invalid(name)),
        };
    }
    if let Some(tag) = word.strip_prefix('#') {
        return match single_word(tag) {
            Some(tag) => Ok(clause(Node::Hashtag(tag), true)),
            None => Err(QueryError::at(
                format!("no viable alternative at input '{word}'"),
                position,
            )),
        };
    }
    if let Some(user) = word.strip_prefix('@') {
        return match single_word(user).filter(|user| valid_username(user)) {
            Some(user) => Ok(clause(Node::Mention(user), true)),
            None => Err(QueryError::at(
                format!("no viable alternative at input '{word}'"),
                position,
            )),
        };
    }
    let parts: Vec<String> = words(word).into_iter().map(|word| word.text).collect();
    if parts.is_empty() {
        return Err(QueryError::at(
            format!("no viable alternative at input '{word}'"),
            position,
        ));
    }
    Ok(clause(Node::Keyword(parts), true))
}

/// `text` as exactly one lowercase word, or None.
fn single_word(text: &str) -> Option<String> {
    let mut found = words(text);
    (found.len() == 1 && found[0].text.chars().count() == text.chars().count())
        .then(|| found.remove(0).text)
}

fn valid_language(code: &str) -> bool {
    (2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphabetic())
}

/// A handle or a numeric user id, as `from:` takes them.
fn valid_user(name: &str) -> bool {
    valid_username(name)
        || ((1..=20).contains(&name.len()) && name.chars().all(|c| c.is_ascii_digit()))
}

fn valid_username(name: &str) -> bool {
    (1..=15).contains(&name.len()) && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

// ---- matching ------------------------------------------------------------------------------

/// A word of a post: lowercase, and whether `#` or `@` stood right before it.
struct Word {
    text: String,
    prefix: Option<char>,
}

fn is_word_character(character: char) -> bool {
    character.is_alphanumeric() || character == '_'
}

/// The post's words, lowercase: runs of letters, digits and `_`; everything else separates.
fn words(text: &str) -> Vec<Word> {
    let mut found = Vec::new();
    let mut current = String::new();
    let mut prefix = None;
    let mut previous = None;
    for character in text.chars() {
        if is_word_character(character) {
            if current.is_empty() {
                prefix = previous.filter(|before| matches!(before, '#' | '@'));
            }
            current.extend(character.to_lowercase());
        } else if !current.is_empty() {
            found.push(Word {
                text: std::mem::take(&mut current),
                prefix: prefix.take(),
            });
        }
        previous = Some(character);
    }
    if !current.is_empty() {
        found.push(Word {
            text: current,
            prefix,
        });
    }
    found
}

fn evaluate(node: &Node, candidate: &Candidate<'_>, words: &[Word], lower: &str) -> bool {
    match node {
        Node::Keyword(parts) => words.windows(parts.len()).any(|window| {
            window
                .iter()
                .zip(parts)
                .all(|(word, part)| word.text == *part)
        }),
        Node::Phrase(phrase) => contains_phrase(lower, phrase),
        Node::Hashtag(tag) => words
            .iter()
            .any(|word| word.prefix == Some('#') && word.text == *tag),
        Node::Mention(user) => words
            .iter()
            .any(|word| word.prefix == Some('@') && word.text == *user),
        Node::IsRetweet => candidate.is_retweet,
        Node::IsReply => candidate.is_reply,
        Node::Lang(code) => candidate.lang.eq_ignore_ascii_case(code),
        Node::From(user) => {
            candidate.author_username.eq_ignore_ascii_case(user) || candidate.author_id == user
        }
        Node::Not(inner) => !evaluate(inner, candidate, words, lower),
        Node::And(clauses) => clauses
            .iter()
            .all(|clause| evaluate(clause, candidate, words, lower)),
        Node::Or(alternatives) => alternatives
            .iter()
            .any(|alternative| evaluate(alternative, candidate, words, lower)),
    }
}

/// Whether `phrase` occurs in `text` (both lowercase) on word boundaries.
fn contains_phrase(text: &str, phrase: &str) -> bool {
    let phrase = phrase.trim();
    if phrase.is_empty() {
        return false;
    }
    let starts_with_word = phrase.chars().next().is_some_and(is_word_character);
    let ends_with_word = phrase.chars().last().is_some_and(is_word_character);
    text.match_indices(phrase).any(|(start, found)| {
        let before = text[..start].chars().last();
        let after = text[start + found.len()..].chars().next();
        let glued_before = starts_with_word && before.is_some_and(is_word_character);
        let glued_after = ends_with_word && after.is_some_and(is_word_character);
        !glued_before && !glued_after
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn post(text: &str) -> Candidate<'_> {
        Candidate {
            text,
            lang: "es",
            author_id: "1500000000000000001",
            author_username: "lucia_fdz",
            is_retweet: false,
            is_reply: false,
        }
    }

    fn matches(query: &str, candidate: &Candidate<'_>) -> bool {
        SearchQuery::parse(query)
            .unwrap_or_else(|err| panic!("{query} parses: {}", err.message()))
            .matches(candidate)
    }

    fn error(query: &str) -> QueryError {
        SearchQuery::parse(query).expect_err("the query is refused")
    }

    #[test]
    fn keywords_match_whole_words_case_insensitively() {
        let text = post("Compré en TiendaBuzon.com y llegó rápido, #TiendaBuzon 💌");
        assert!(matches("tiendabuzon", &text));
        assert!(matches("TIENDABUZON", &text));
        assert!(matches("llegó", &text));
        assert!(!matches("llego", &text), "accents count as written");
        assert!(!matches("tienda", &text), "a word is matched whole");
        assert!(matches("tiendabuzon.com", &text));
        assert!(matches("compré rápido", &text), "implicit AND");
        assert!(!matches("compré lento", &text));
        assert!(matches("#tiendabuzon", &text));
        assert!(!matches("#compré", &text), "a hashtag term wants a hashtag");
        assert!(matches("@lucia_fdz", &post("hola @Lucia_FDZ, ¿qué tal?")));
        assert!(!matches("@lucia_fdz", &post("hola lucia_fdz")));
    }

    #[test]
    fn phrases_match_on_word_boundaries() {
        let text = post("Mi pedido de Tienda Buzón llegó roto");
        assert!(matches("\"tienda buzón\"", &text));
        assert!(matches("\"TIENDA BUZÓN\"", &text));
        assert!(!matches("\"tienda buzon\"", &text));
        assert!(!matches("\"ienda buzón\"", &text));
        assert!(!matches("\"buzón llegó roto mañana\"", &text));
        assert!(!matches("\"tienda buzón\"", &post("Tienda Buzónes")));
        assert!(matches("\"tienda buzón\"", &post("(tienda buzón)")));
    }

    #[test]
    fn or_binds_looser_than_and_and_parentheses_group() {
        let text = post("envío gratis hoy");
        assert!(matches("envío OR devolución", &text));
        assert!(matches("devolución OR envío gratis", &text));
        assert!(!matches("devolución OR envío caro", &text));
        assert!(matches("(devolución OR envío) gratis", &text));
        assert!(!matches("(devolución OR envío) caro", &text));
        assert!(matches("envío (caro OR gratis) (hoy OR mañana)", &text));
        assert!(
            !matches("envío or devolución", &text),
            "a lowercase or is a keyword, not OR"
        );
    }

    #[test]
    fn negation_and_operators() {
        let retweet = Candidate {
            is_retweet: true,
            ..post("RT @maria: me encanta tiendabuzon")
        };
        let original = post("me encanta tiendabuzon");
        assert!(!matches("tiendabuzon -is:retweet", &retweet));
        assert!(matches("tiendabuzon -is:retweet", &original));
        assert!(matches("tiendabuzon is:retweet", &retweet));
        assert!(matches("tiendabuzon lang:es", &original));
        assert!(!matches("tiendabuzon lang:en", &original));
        assert!(matches("tiendabuzon from:LUCIA_FDZ", &original));
        assert!(matches("tiendabuzon from:1500000000000000001", &original));
        assert!(!matches("tiendabuzon from:otra", &original));
        assert!(!matches("tiendabuzon -encanta", &original));
        assert!(!matches("tiendabuzon -\"me encanta\"", &original));
        assert!(matches("tiendabuzon -(odio OR fatal)", &original));
        assert!(!matches("tiendabuzon -(odio OR encanta)", &original));
        let reply = Candidate {
            is_reply: true,
            ..post("@maria yo también compro en tiendabuzon")
        };
        assert!(matches("tiendabuzon is:reply", &reply));
        assert!(!matches("tiendabuzon -is:reply", &reply));
    }

    #[test]
    fn the_demo_searches_parse_and_match() {
        let spanish = post("¿Alguien compró en Tienda Buzón? #tiendabuzon");
        let english = Candidate {
            lang: "en",
            ..post("Anyone tried tiendabuzon? Thinking of ordering")
        };
        assert!(matches("tiendabuzon -is:retweet", &spanish));
        assert!(matches("tiendabuzon -is:retweet", &english));
        let second = "(\"tienda buzón\" OR #tiendabuzon) lang:es";
        assert!(matches(second, &spanish));
        assert!(!matches(second, &english));
        assert!(matches(second, &post("Me encanta Tienda Buzón")));
    }

    #[test]
    fn invalid_queries_are_refused_with_x_messages() {
        assert_eq!(
            error("").message(),
            "Invalid 'query':''. 'query' must be a non-empty string"
        );
        assert!(error("   ")
            .message()
            .contains("must be a non-empty string"));
        let long = "a".repeat(513);
        assert!(error(&long).message().contains("exceeds max allowed 512"));
        assert!(SearchQuery::parse(&"b".repeat(512)).is_ok());

        let open = error("(tienda OR buzón");
        assert_eq!(
            open.message(),
            "There were errors processing your request: mismatched input 'EOF' expecting ')' (at position 17)"
        );
        let close = error("tienda OR buzón)");
        assert_eq!(close.reason, "missing EOF at ')'");
        assert_eq!(close.position, Some(16));
        let quote = error("\"tienda buzón");
        assert_eq!(quote.reason, "mismatched character '<EOF>' expecting '\"'");
        assert_eq!(quote.position, Some(14));

        let operator = error("tiendabuzon foo:bar");
        assert_eq!(
            operator.message(),
            "There were errors processing your request: Reference to invalid operator 'foo' (at position 13)"
        );
        assert_eq!(
            error("tiendabuzon is:polls").reason,
            "Reference to invalid operator 'is:polls'"
        );

        let negations = error("-tiendabuzon -is:retweet");
        assert_eq!(
            negations.message(),
            "There were errors processing your request: Rules must contain a non-negation term (at position 1)"
        );
        assert_eq!(
            error("tienda OR -buzón").reason,
            "Rules must contain a non-negation term"
        );
        let standalone = error("lang:es -is:retweet");
        assert_eq!(
            standalone.reason,
            "is/has/lang cannot be used as a standalone operator"
        );
        assert_eq!(standalone.position, Some(1));

        let trailing = error("tienda OR");
        assert_eq!(trailing.reason, "no viable alternative at input 'OR'");
        assert_eq!(trailing.position, Some(8));
        assert_eq!(error("OR tienda").position, Some(1));
        assert_eq!(error("tienda OR OR buzón").position, Some(8));
        assert_eq!(error("(tienda OR) buzón").position, Some(9));
        assert!(error("tienda AND buzón")
            .reason
            .starts_with("Ambiguous use of and"));
        assert!(error("()").reason.contains("'()'"));
        assert!(error("tienda - buzón").reason.contains("'-'"));
    }
}
