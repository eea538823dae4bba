//! The other names a person's first name goes by, so "Bob Whitfield" finds Robert and "Robert
//! Whitfield" finds Bob: tried only when the name as written matches nobody.

/// Names that stand for one another (English-language usage; formal name first).
const GROUPS: &[&[&str]] = &[
    &["robert", "bob", "rob", "bobby", "robbie", "bert"],
    &["william", "bill", "will", "billy", "liam"],
    &["elizabeth", "liz", "beth", "lizzie", "betty", "eliza"],
    &[
        "katherine",
        "kate",
        "katie",
        "kathy",
        "kat",
        "cathy",
        "catherine",
        "kathryn",
    ],
    &["michael", "mike", "mick", "mikey"],
    &["james", "jim", "jimmy", "jamie"],
    &["john", "jack", "johnny", "jon"],
    &["jonathan", "jon", "jonny"],
    &["daniel", "dan", "danny"],
    &["samuel", "sam", "sammy"],
    &["samantha", "sam", "sammy"],
    &["alexander", "alex", "al", "sasha", "xander"],
    &["alexandra", "alex", "sasha", "lexi"],
    &["christopher", "chris", "kit"],
    &["christine", "chris", "tina", "christina"],
    &["thomas", "tom", "tommy"],
    &["anthony", "tony"],
    &["david", "dave", "davey"],
    &["stephen", "steve", "steven", "stevie"],
    &["matthew", "matt", "matty"],
    &["nicholas", "nick", "nicky", "nico"],
    &["jennifer", "jen", "jenny"],
    &["benjamin", "ben", "benny"],
    &["patrick", "pat", "paddy"],
    &["patricia", "pat", "patty", "trish"],
    &["andrew", "andy", "drew"],
    &["gregory", "greg"],
    &["margaret", "maggie", "meg", "peggy", "marge"],
    &["susan", "sue", "susie"],
    &["edward", "ed", "eddie", "ted", "ned"],
    &["joseph", "joe", "joey"],
    &["henry", "hank", "harry"],
    &["victor", "vic"],
    &["victoria", "vicky", "tori"],
    &["richard", "rick", "rich", "dick", "richie"],
    &["frederick", "fred", "freddie"],
    &["kimberly", "kim"],
    &["rebecca", "becky", "becca"],
    &["deborah", "debbie", "deb"],
    &["jessica", "jess", "jessie"],
    &["abigail", "abby", "abbie"],
    &["zoe", "zoey"],
    &["lucy", "lucia", "lu"],
    &["emma", "em", "emmy"],
    &["daniela", "dani"],
    &["maria", "mary", "mia"],
    &["olivia", "liv", "livvy"],
    &["sofia", "sophia", "sophie"],
    &["hannah", "hanna"],
    &["irene", "reenie"],
    &["fatima", "fati"],
    &["pablo", "pablito"],
    &["diego", "dieguito"],
    &["wendy", "gwendolyn"],
];

/// The name written with its first word replaced by each other name it goes by (at most
/// `limit`, formal names first); empty when the first word is nobody's nickname.
pub(crate) fn alternatives(name: &str, limit: usize) -> Vec<String> {
    let mut words = name.split_whitespace();
    let Some(first) = words.next() else {
        return Vec::new();
    };
    let rest: Vec<String> = words.map(str::to_lowercase).collect();
    let first = first.to_lowercase();
    let mut out: Vec<String> = Vec::new();
    for group in GROUPS.iter().filter(|g| g.contains(&first.as_str())) {
        for other in group.iter().filter(|n| **n != first) {
            let candidate = std::iter::once(*other)
                .chain(rest.iter().map(String::as_str))
                .collect::<Vec<_>>()
                .join(" ");
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out.truncate(limit);
    out
}

#[cfg(test)]
mod tests {
    use super::alternatives;

    #[test]
    fn nicknames_lead_to_formal_names_and_back() {
        assert_eq!(
            alternatives("bob whitfield", 2),
            ["robert whitfield", "rob whitfield"]
        );
        assert_eq!(alternatives("Robert Whitfield", 1), ["bob whitfield"]);
        assert!(alternatives("danny", 3).contains(&"daniel".to_owned()));
        assert!(alternatives("hank okafor", 3).contains(&"henry okafor".to_owned()));
        assert!(alternatives("Nestor", 3).is_empty());
        assert!(alternatives("", 3).is_empty());
        // A name in two groups (Sam: Samuel or Samantha) offers both, without repeats.
        let sam = alternatives("sam", 10);
        assert!(sam.contains(&"samuel".to_owned()) && sam.contains(&"samantha".to_owned()));
        assert_eq!(sam.iter().filter(|n| *n == "sammy").count(), 1);
    }
}
