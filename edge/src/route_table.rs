//! The routing table: each method's path patterns and what they lead to, built once per isolate
//! and kept (`routes/routing.rs` fills it with the worker's handlers). workers-rs's `Router` is
//! consumed by each request it runs, so building it for every request (about 70 trie inserts,
//! and as many drops) cost about an eighth of an order create's CPU. The lookups are the same
//! as its (matchit 0.7, the version it uses), and so are the answers for a wrong method and an
//! unknown path.

use std::collections::HashMap;
use std::hash::Hash;

/// Where a request goes.
#[derive(Debug, PartialEq)]
pub enum Found<H> {
    /// The route, and the path's parameters (`:name`, `*name`) by name.
    Route(H, Vec<(String, String)>),
    /// The path is routed, for other methods (answered 405).
    WrongMethod,
    NotFound,
}

pub struct Table<M, H> {
    by_method: HashMap<M, matchit::Router<H>>,
}

impl<M, H> Default for Table<M, H> {
    fn default() -> Self {
        Table {
            by_method: HashMap::new(),
        }
    }
}

impl<M: Eq + Hash + Clone + std::fmt::Debug, H: Copy> Table<M, H> {
    /// Routes `pattern` to `h` for each of `methods`; a clash is a bug in the table, found at the
    /// first request of every test run.
    pub fn add(&mut self, methods: &[M], pattern: &str, h: H) -> &mut Self {
        for m in methods {
            let tree = self.by_method.entry(m.clone()).or_default();
            if let Err(e) = tree.insert(pattern, h) {
                panic!("route {m:?} {pattern}: {e}");
            }
        }
        self
    }

    /// The route for `method` and `path`; else whether one of `others` routes the path.
    pub fn find(&self, method: &M, path: &str, others: &[M]) -> Found<H> {
        if let Some(m) = self.by_method.get(method).and_then(|t| t.at(path).ok()) {
            let params = m.params.iter().map(|(k, v)| (k.to_owned(), v.to_owned()));
            return Found::Route(*m.value, params.collect());
        }
        let elsewhere = others
            .iter()
            .filter_map(|m| self.by_method.get(m))
            .any(|t| t.at(path).is_ok());
        if elsewhere {
            Found::WrongMethod
        } else {
            Found::NotFound
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_routes_and_tells_a_wrong_method_from_an_unknown_path() {
        let mut t: Table<&str, u8> = Table::default();
        t.add(&["GET"], "/pay/:token", 1)
            .add(&["POST"], "/pay/unifiedorder", 2)
            .add(&["GET", "POST", "DELETE"], "/v1/*path", 3);
        let others = ["GET", "POST", "DELETE"];
        let token = vec![("token".to_owned(), "abc".to_owned())];
        assert_eq!(t.find(&"GET", "/pay/abc", &others), Found::Route(1, token));
        let path = vec![("path".to_owned(), "orders/x".to_owned())];
        assert_eq!(
            t.find(&"DELETE", "/v1/orders/x", &others),
            Found::Route(3, path)
        );
        assert_eq!(
            t.find(&"GET", "/pay/unifiedorder", &others),
            Found::Route(1, vec![("token".to_owned(), "unifiedorder".to_owned())])
        );
        assert_eq!(
            t.find(&"POST", "/pay/unifiedorder", &others),
            Found::Route(2, vec![])
        );
        assert_eq!(t.find(&"PUT", "/pay/abc", &others), Found::WrongMethod);
        assert_eq!(t.find(&"GET", "/nope", &others), Found::NotFound);
    }

    #[test]
    #[should_panic(expected = "route")]
    fn a_clash_is_found_at_once() {
        let mut t: Table<&str, u8> = Table::default();
        t.add(&["GET"], "/a/:x", 1).add(&["GET"], "/a/:y", 2);
    }
}
