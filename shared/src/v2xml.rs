//! The XML envelope of the WeChat Pay v2 protocol: one `<xml>` root holding flat
//! fields, text or CDATA, UTF-8.
//!
//! The parser is written for hostile input, not for XML in general:
//! - no DTDs, no entity declarations, no entities but the five predefined ones and character
//!   references (so nothing external is ever fetched and nothing expands);
//! - caps on size ([`MAX_BYTES`]), nesting ([`MAX_DEPTH`]) and element count ([`MAX_ELEMENTS`]);
//! - no attributes, no processing instructions but the leading declaration, no mixed content;
//! - a field given twice is an error, never "last one wins" (a signature would cover one value
//!   and the ledger would act on another);
//! - line ends are normalised as XML 1.0 requires (`\r\n` and `\r` become `\n`).
//!
//! It runs in linear time over the input and never recurses deeper than [`MAX_DEPTH`].

pub const MAX_BYTES: usize = 32 * 1024;
/// `<xml>`, its fields, and two levels below a field (which the flat protocol then refuses).
pub const MAX_DEPTH: usize = 4;
pub const MAX_ELEMENTS: usize = 256;
pub const MAX_NAME: usize = 64;

/// Why a body is not a protocol XML document. Messages are stable and safe to show the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XmlError {
    TooLarge,
    Dtd,
    Entity,
    TooDeep,
    TooManyElements,
    Duplicate(String),
    Nested(String),
    NotXmlRoot,
    Malformed(&'static str),
}

impl XmlError {
    pub fn message(&self) -> String {
        match self {
            XmlError::TooLarge => format!("the XML body must be at most {MAX_BYTES} bytes"),
            XmlError::Dtd => "DTDs and declarations are not accepted".into(),
            XmlError::Entity => {
                "only the predefined entities and character references are accepted".into()
            }
            XmlError::TooDeep => format!("elements nest deeper than {MAX_DEPTH} levels"),
            XmlError::TooManyElements => format!("more than {MAX_ELEMENTS} elements"),
            XmlError::Duplicate(n) => format!("the field {n} is given more than once"),
            XmlError::Nested(n) => format!("the field {n} must be text, not elements"),
            XmlError::NotXmlRoot => "the root element must be <xml>".into(),
            XmlError::Malformed(why) => format!("malformed XML: {why}"),
        }
    }
}

/// Parses a protocol document into its fields, in document order.
pub fn parse(input: &str) -> Result<Vec<(String, String)>, XmlError> {
    if input.len() > MAX_BYTES {
        return Err(XmlError::TooLarge);
    }
    let mut p = Parser {
        s: input.strip_prefix('\u{feff}').unwrap_or(input).as_bytes(),
        i: 0,
        elements: 0,
    };
    p.prolog()?;
    if !p.eat(b"<") {
        return Err(XmlError::Malformed("expected the root element"));
    }
    let (name, node) = p.element(1)?;
    p.misc()?;
    if p.i != p.s.len() {
        return Err(XmlError::Malformed("content after the root element"));
    }
    if name != "xml" {
        return Err(XmlError::NotXmlRoot);
    }
    match node {
        Node::Text(t) if t.trim().is_empty() => Ok(vec![]),
        Node::Text(_) => Err(XmlError::Malformed("text directly inside <xml>")),
        Node::Elements(children) => children
            .into_iter()
            .map(|(k, v)| match v {
                Node::Text(t) => Ok((k, t)),
                Node::Elements(_) => Err(XmlError::Nested(k)),
            })
            .collect(),
    }
}

/// Writes fields as a protocol document: digits bare, everything else in CDATA (as WeChat Pay
/// does), empty values left out. Callers write only names they chose and validated text.
pub fn write<K: AsRef<str>, V: AsRef<str>>(fields: &[(K, V)]) -> String {
    let mut out = String::from("<xml>");
    for (k, v) in fields {
        let (k, v) = (k.as_ref(), v.as_ref());
        if v.is_empty() {
            continue;
        }
        out.push('<');
        out.push_str(k);
        out.push('>');
        if v.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(v);
        } else {
            out.push_str("<![CDATA[");
            // `]]>` cannot appear inside CDATA: close the section between `]]` and `>`.
            out.push_str(&v.replace("]]>", "]]]]><![CDATA[>"));
            out.push_str("]]>");
        }
        out.push_str("</");
        out.push_str(k);
        out.push('>');
    }
    out.push_str("</xml>");
    out
}

enum Node {
    Text(String),
    Elements(Vec<(String, Node)>),
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    elements: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &[u8] {
        &self.s[self.i..]
    }

    fn eat(&mut self, lit: &[u8]) -> bool {
        if self.rest().starts_with(lit) {
            self.i += lit.len();
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self
            .s
            .get(self.i)
            .is_some_and(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
        {
            self.i += 1;
        }
    }

    /// Moves past the next `end`, returning what came before it.
    fn until(&mut self, end: &[u8], what: &'static str) -> Result<&[u8], XmlError> {
        let rest = self.rest();
        let at = rest
            .windows(end.len())
            .position(|w| w == end)
            .ok_or(XmlError::Malformed(what))?;
        let body = &self.s[self.i..self.i + at];
        self.i += at + end.len();
        Ok(body)
    }

    /// The optional declaration, then whitespace and comments.
    fn prolog(&mut self) -> Result<(), XmlError> {
        self.skip_ws();
        if self.eat(b"<?xml") {
            let decl = self.until(b"?>", "unterminated XML declaration")?;
            let decl = String::from_utf8_lossy(decl).to_ascii_lowercase();
            if let Some(at) = decl.find("encoding") {
                let enc = decl[at + 8..]
                    .trim_start()
                    .trim_start_matches('=')
                    .trim_start();
                if !(enc.starts_with("\"utf-8\"") || enc.starts_with("'utf-8'")) {
                    return Err(XmlError::Malformed("the encoding must be UTF-8"));
                }
            }
        }
        self.misc()
    }

    /// Whitespace and comments; a DTD or processing instruction is refused.
    fn misc(&mut self) -> Result<(), XmlError> {
        loop {
            self.skip_ws();
            if self.eat(b"<!--") {
                self.until(b"-->", "unterminated comment")?;
            } else {
                return self.declaration().map_or(Ok(()), Err);
            }
        }
    }

    /// The refusal of what starts here, if it is a DTD or other declaration (`<!`, comments and
    /// CDATA having been read already) or a processing instruction (`<?`).
    fn declaration(&self) -> Option<XmlError> {
        if self.rest().starts_with(b"<!") {
            Some(XmlError::Dtd)
        } else if self.rest().starts_with(b"<?") {
            Some(XmlError::Malformed(
                "processing instructions are not accepted",
            ))
        } else {
            None
        }
    }

    fn name(&mut self) -> Result<String, XmlError> {
        let start = self.i;
        while self
            .s
            .get(self.i)
            .is_some_and(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.' | b':'))
        {
            self.i += 1;
        }
        let name = &self.s[start..self.i];
        let first_ok = name
            .first()
            .is_some_and(|b| b.is_ascii_alphabetic() || *b == b'_');
        if !first_ok || name.len() > MAX_NAME {
            return Err(XmlError::Malformed("invalid element name"));
        }
        Ok(String::from_utf8(name.to_vec()).expect("ASCII"))
    }

    /// An element whose `<` has been consumed, at nesting `depth` (the root is 1).
    fn element(&mut self, depth: usize) -> Result<(String, Node), XmlError> {
        if depth > MAX_DEPTH {
            return Err(XmlError::TooDeep);
        }
        self.elements += 1;
        if self.elements > MAX_ELEMENTS {
            return Err(XmlError::TooManyElements);
        }
        let name = self.name()?;
        self.skip_ws();
        if self.eat(b"/>") {
            return Ok((name, Node::Text(String::new())));
        }
        if !self.eat(b">") {
            return Err(XmlError::Malformed("attributes are not accepted"));
        }
        let mut text: Vec<u8> = Vec::new();
        let mut children: Vec<(String, Node)> = Vec::new();
        loop {
            let Some(&b) = self.s.get(self.i) else {
                return Err(XmlError::Malformed("unclosed element"));
            };
            match b {
                b'<' => {
                    if self.eat(b"<![CDATA[") {
                        let body = self.until(b"]]>", "unterminated CDATA section")?;
                        text.extend_from_slice(body);
                    } else if self.eat(b"<!--") {
                        self.until(b"-->", "unterminated comment")?;
                    } else if let Some(refused) = self.declaration() {
                        return Err(refused);
                    } else if self.eat(b"</") {
                        let end = self.name()?;
                        self.skip_ws();
                        if end != name || !self.eat(b">") {
                            return Err(XmlError::Malformed("mismatched end tag"));
                        }
                        break;
                    } else {
                        self.i += 1;
                        let (child, node) = self.element(depth + 1)?;
                        if children.iter().any(|(n, _)| *n == child) {
                            return Err(XmlError::Duplicate(child));
                        }
                        children.push((child, node));
                    }
                }
                b'&' => {
                    self.i += 1;
                    let body = self.until(b";", "unterminated entity")?;
                    let c = entity(body)?;
                    let mut buf = [0u8; 4];
                    text.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                }
                _ => {
                    text.push(b);
                    self.i += 1;
                }
            }
        }
        let text = String::from_utf8(text).map_err(|_| XmlError::Malformed("not UTF-8"))?;
        if text.chars().any(|c| !is_xml_char(c)) {
            return Err(XmlError::Malformed("a character XML does not allow"));
        }
        let text = if text.contains('\r') {
            text.replace("\r\n", "\n").replace('\r', "\n")
        } else {
            text
        };
        if children.is_empty() {
            Ok((name, Node::Text(text)))
        } else if text.trim().is_empty() {
            Ok((name, Node::Elements(children)))
        } else {
            Err(XmlError::Malformed("text mixed with elements"))
        }
    }
}

fn entity(body: &[u8]) -> Result<char, XmlError> {
    let c = match body {
        b"lt" => '<',
        b"gt" => '>',
        b"amp" => '&',
        b"quot" => '"',
        b"apos" => '\'',
        [b'#', b'x', hex @ ..] if !hex.is_empty() && hex.len() <= 6 => {
            let s = std::str::from_utf8(hex).map_err(|_| XmlError::Entity)?;
            char::from_u32(u32::from_str_radix(s, 16).map_err(|_| XmlError::Entity)?)
                .ok_or(XmlError::Entity)?
        }
        [b'#', dec @ ..] if !dec.is_empty() && dec.len() <= 7 => {
            let s = std::str::from_utf8(dec).map_err(|_| XmlError::Entity)?;
            if !s.bytes().all(|b| b.is_ascii_digit()) {
                return Err(XmlError::Entity);
            }
            char::from_u32(s.parse().map_err(|_| XmlError::Entity)?).ok_or(XmlError::Entity)?
        }
        _ => return Err(XmlError::Entity),
    };
    if is_xml_char(c) {
        Ok(c)
    } else {
        Err(XmlError::Entity)
    }
}

/// XML 1.0's `Char` production (surrogates cannot occur in a `char`).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{fffd}' | '\u{10000}'..)
}

/// The property the fuzz target checks on arbitrary input: parsing never panics, and whatever
/// parses survives writing and parsing again unchanged (empty fields aside, which the protocol
/// treats as absent).
#[doc(hidden)]
pub fn check_round_trip(data: &[u8]) {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(fields) = parse(s) else {
        return;
    };
    let kept: Vec<(String, String)> = fields.into_iter().filter(|(_, v)| !v.is_empty()).collect();
    let again = parse(&write(&kept)).expect("what we write parses");
    assert_eq!(again, kept);
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn f(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn what_sdks_send() {
        // wechatpy's dict_to_xml: newline-separated, digits bare, the sign last.
        let doc = "<xml>\n<appid><![CDATA[wx1]]></appid>\n<total_fee>1</total_fee>\n\
                   <body><![CDATA[A & B]]></body>\n<sign><![CDATA[ABC]]></sign>\n</xml>";
        assert_eq!(
            parse(doc).unwrap(),
            f(&[
                ("appid", "wx1"),
                ("total_fee", "1"),
                ("body", "A & B"),
                ("sign", "ABC")
            ])
        );
        // xml2js's builder (tenpay): a declaration, CDATA only where needed.
        let doc = "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?>\r\n<xml>\r\n  \
                   <body>&lt;b&gt; &#x4E2D;&#25991;</body>\r\n  <empty/>\r\n</xml>\r\n";
        assert_eq!(
            parse(doc).unwrap(),
            f(&[("body", "<b> 中文"), ("empty", "")])
        );
        assert_eq!(parse("\u{feff}<xml></xml>").unwrap(), vec![]);
        assert_eq!(
            parse("<xml><a>x\r\ny\rz</a></xml>").unwrap(),
            f(&[("a", "x\ny\nz")])
        );
    }

    #[test]
    fn hostile_input_is_refused() {
        let cases: &[(&str, XmlError)] = &[
            (
                "<!DOCTYPE xml [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><xml><a>&x;</a></xml>",
                XmlError::Dtd,
            ),
            ("<xml><!ENTITY x \"y\"><a>1</a></xml>", XmlError::Dtd),
            ("<xml><a>&x;</a></xml>", XmlError::Entity),
            ("<xml><a>&#0;</a></xml>", XmlError::Entity),
            ("<xml><a>&#xD800;</a></xml>", XmlError::Entity),
            ("<xml><a>&#99999999;</a></xml>", XmlError::Entity),
            (
                "<xml><a>1</a><a>2</a></xml>",
                XmlError::Duplicate("a".into()),
            ),
            ("<xml><a><b>1</b></a></xml>", XmlError::Nested("a".into())),
            (
                "<xml><a><b><c><d>1</d></c></b></a></xml>",
                XmlError::TooDeep,
            ),
            ("<root><a>1</a></root>", XmlError::NotXmlRoot),
            (
                "<xml a=\"1\"><a>1</a></xml>",
                XmlError::Malformed("attributes are not accepted"),
            ),
            (
                "<xml><a>1</b></xml>",
                XmlError::Malformed("mismatched end tag"),
            ),
            ("<xml><a>1</a>", XmlError::Malformed("unclosed element")),
            (
                "<xml><a>1</a></xml><xml/>",
                XmlError::Malformed("content after the root element"),
            ),
            (
                "<xml>t<a>1</a></xml>",
                XmlError::Malformed("text mixed with elements"),
            ),
            (
                "<xml><a>\u{1}</a></xml>",
                XmlError::Malformed("a character XML does not allow"),
            ),
            (
                "<?xml version=\"1.0\" encoding=\"GBK\"?><xml/>",
                XmlError::Malformed("the encoding must be UTF-8"),
            ),
            (
                "<xml><?php x ?></xml>",
                XmlError::Malformed("processing instructions are not accepted"),
            ),
            ("", XmlError::Malformed("expected the root element")),
        ];
        for (doc, want) in cases {
            assert_eq!(parse(doc).as_ref(), Err(want), "{doc}");
        }
        let big = format!("<xml><a>{}</a></xml>", "x".repeat(MAX_BYTES));
        assert_eq!(parse(&big), Err(XmlError::TooLarge));
        let many: String = (0..MAX_ELEMENTS)
            .map(|i| format!("<f{i}>1</f{i}>"))
            .collect();
        assert_eq!(
            parse(&format!("<xml>{many}</xml>")),
            Err(XmlError::TooManyElements)
        );
        // A billion laughs needs entity declarations, which never get that far.
        assert_eq!(
            parse("<!DOCTYPE lolz [<!ENTITY lol \"lol\">]><xml>&lol;</xml>"),
            Err(XmlError::Dtd)
        );
    }

    #[test]
    fn writes_like_wechat_pay() {
        let xml = write(&[
            ("return_code", "SUCCESS"),
            ("total_fee", "100"),
            ("attach", "x]]>y"),
            ("device_info", ""),
        ]);
        assert_eq!(
            xml,
            "<xml><return_code><![CDATA[SUCCESS]]></return_code><total_fee>100</total_fee>\
             <attach><![CDATA[x]]]]><![CDATA[>y]]></attach></xml>"
        );
        assert_eq!(
            parse(&xml).unwrap(),
            f(&[
                ("return_code", "SUCCESS"),
                ("total_fee", "100"),
                ("attach", "x]]>y")
            ])
        );
    }

    proptest! {
        #[test]
        fn any_fields_round_trip(
            fields in proptest::collection::btree_map("[a-z_][a-z0-9_]{0,10}", "\\PC{0,20}", 0..12)
        ) {
            let fields: Vec<(String, String)> = fields.into_iter().collect();
            check_round_trip(write(&fields).as_bytes());
        }

        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..200)) {
            check_round_trip(&data);
        }

        #[test]
        fn mutated_documents_never_panic(
            cut in 0usize..120, insert in "[<>&;!\\[\\]/a-z#x0-9]{0,6}"
        ) {
            let doc = "<xml><a><![CDATA[v]]></a><b>&amp;&#x41;</b><c/></xml>";
            let at = cut.min(doc.len());
            let mutated = format!("{}{}{}", &doc[..at], insert, &doc[at..]);
            check_round_trip(mutated.as_bytes());
        }
    }
}
