//! Turns the live document into new markup with the fewest changes: nodes are matched in order
//! by kind, tag and id; a match is updated in place (attributes, text, an input's value and
//! checked state), anything else is replaced. An input the payer is typing in stays the same
//! element, so it keeps focus and caret; an image that did not change is not loaded again.

use wasm_bindgen::JsCast;
use web_sys::{Element, HtmlInputElement, HtmlTemplateElement, Node};

/// Makes the children of `root` those of `markup`.
pub fn morph_into(root: &Element, markup: &str) {
    let Some(doc) = root.owner_document() else {
        return;
    };
    // A template's content is inert: nothing in it loads or runs.
    let Ok(template) = doc.create_element("template") else {
        return;
    };
    let template: HtmlTemplateElement = template.unchecked_into();
    template.set_inner_html(markup);
    children(root, &template.content());
}

fn same(a: &Node, b: &Node) -> bool {
    if a.node_type() != b.node_type() || a.node_name() != b.node_name() {
        return false;
    }
    match (a.dyn_ref::<Element>(), b.dyn_ref::<Element>()) {
        (Some(a), Some(b)) => a.id() == b.id(),
        _ => true,
    }
}

fn children(old: &Node, new: &Node) {
    let mut at = old.first_child();
    let mut next_new = new.first_child();
    while let Some(n) = next_new {
        next_new = n.next_sibling();
        match at {
            Some(o) if same(&o, &n) => {
                node(&o, &n);
                at = o.next_sibling();
            }
            Some(o) => {
                at = o.next_sibling();
                let _ = old.replace_child(&n, &o);
            }
            None => {
                let _ = old.append_child(&n);
            }
        }
    }
    while let Some(o) = at {
        at = o.next_sibling();
        let _ = old.remove_child(&o);
    }
}

fn node(old: &Node, new: &Node) {
    let (Some(o), Some(n)) = (old.dyn_ref::<Element>(), new.dyn_ref::<Element>()) else {
        if old.node_value() != new.node_value() {
            old.set_node_value(new.node_value().as_deref());
        }
        return;
    };
    attributes(o, n);
    if let Some(input) = o.dyn_ref::<HtmlInputElement>() {
        // The attributes are only the defaults once the payer has touched an input.
        let value = n.get_attribute("value").unwrap_or_default();
        if input.value() != value {
            input.set_value(&value);
        }
        input.set_checked(n.has_attribute("checked"));
    }
    children(old, new);
}

fn attributes(old: &Element, new: &Element) {
    let names = old.get_attribute_names();
    for name in names.iter().filter_map(|n| n.as_string()) {
        if !new.has_attribute(&name) {
            let _ = old.remove_attribute(&name);
        }
    }
    let names = new.get_attribute_names();
    for name in names.iter().filter_map(|n| n.as_string()) {
        let value = new.get_attribute(&name).unwrap_or_default();
        if old.get_attribute(&name).as_deref() != Some(value.as_str()) {
            let _ = old.set_attribute(&name, &value);
        }
    }
}
