//! "Did you mean ...?": the one notion of a near miss, for comment commands, config keys, stack
//! names and policy ids alike.

/// The candidate closest to `input`, if it is close enough to be what was meant: the same
/// but for case, within two edits (and fewer than the words' lengths), or sharing a long
/// prefix (`approve` for `approve_policies`).
pub fn closest<'a>(input: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| {
            let distance = strsim::osa_distance(input, c);
            let close = input.eq_ignore_ascii_case(c)
                || (distance <= 2 && distance < input.len().min(c.len()))
                || (input.len() >= 4 && strsim::jaro_winkler(input, c) >= 0.85);
            (distance, c, close)
        })
        .filter(|&(_, _, close)| close)
        .min_by_key(|&(distance, _, _)| distance)
        .map(|(_, c, _)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn near_misses_and_far_ones() {
        let keys = ["listen", "workers", "app_id", "approve_policies", "approve"];
        assert_eq!(closest("lisen", keys), Some("listen"));
        assert_eq!(closest("WORKERS", keys), Some("workers"));
        assert_eq!(closest("appid", keys), Some("app_id"));
        assert_eq!(closest("approve_polcies", keys), Some("approve_policies"));
        assert_eq!(closest("database", keys), None);
        // Two edits of a two-letter word is any word: no suggestion.
        assert_eq!(closest("ab", ["xy"]), None);
    }
}
