//! A string of HTML built by hand: literal markup from this crate, and every value from an order,
//! a merchant or a payer escaped on the way in. What the worker sends and what the page morphs
//! itself into are both made with this, so they cannot differ.

/// HTML under construction.
#[derive(Default)]
pub struct Markup(String);

impl Markup {
    pub fn new() -> Markup {
        Markup(String::with_capacity(4096))
    }

    /// Markup written in this crate (tags, fixed attributes); never data.
    pub fn raw(&mut self, markup: &str) -> &mut Markup {
        self.0.push_str(markup);
        self
    }

    /// Text or an attribute value (the caller writes the quotes): escaped.
    pub fn text(&mut self, s: &str) -> &mut Markup {
        for c in s.chars() {
            match c {
                '&' => self.0.push_str("&amp;"),
                '<' => self.0.push_str("&lt;"),
                '>' => self.0.push_str("&gt;"),
                '"' => self.0.push_str("&quot;"),
                '\'' => self.0.push_str("&#39;"),
                _ => self.0.push(c),
            }
        }
        self
    }

    /// ` name="value"`, the value escaped.
    pub fn attr(&mut self, name: &str, value: &str) -> &mut Markup {
        self.raw(" ").raw(name).raw("=\"").text(value).raw("\"")
    }

    /// ` name` when `on`: a boolean attribute.
    pub fn flag(&mut self, name: &str, on: bool) -> &mut Markup {
        if on {
            self.raw(" ").raw(name);
        }
        self
    }

    pub fn finish(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::Markup;

    #[test]
    fn values_are_escaped_and_markup_is_not() {
        let mut m = Markup::new();
        m.raw("<p")
            .attr("title", "\"><script>")
            .flag("hidden", true)
            .flag("disabled", false);
        m.raw(">").text("<b>Tom & 'Jerry'</b>").raw("</p>");
        assert_eq!(
            m.finish(),
            "<p title=\"&quot;&gt;&lt;script&gt;\" hidden>&lt;b&gt;Tom &amp; &#39;Jerry&#39;&lt;/b&gt;</p>"
        );
    }
}
