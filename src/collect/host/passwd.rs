//! The local user database (`/etc/passwd`): names for the process table,
//! and uids, gids and homes for exec's run-as.

use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
}

/// Every user `/etc/passwd` lists. Users from other sources (LDAP) are
/// not seen; they show as numbers.
pub fn users() -> Vec<User> {
    parse(&std::fs::read_to_string("/etc/passwd").unwrap_or_default())
}

pub fn parse(text: &str) -> Vec<User> {
    text.lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(':').collect();
            if f.len() < 6 {
                return None;
            }
            Some(User {
                name: f[0].to_string(),
                uid: f[2].parse().ok()?,
                gid: f[3].parse().ok()?,
                home: f[5].to_string(),
            })
        })
        .collect()
}

/// Names by uid.
pub fn names() -> HashMap<u32, String> {
    users().into_iter().map(|u| (u.uid, u.name)).collect()
}

/// The user with this uid: from the database, else a bare number.
pub fn by_uid(uid: u32) -> User {
    users()
        .into_iter()
        .find(|u| u.uid == uid)
        .unwrap_or_else(|| User {
            name: uid.to_string(),
            uid,
            gid: uid,
            home: "/".into(),
        })
}

pub fn by_name(name: &str) -> Option<User> {
    users().into_iter().find(|u| u.name == name)
}

#[cfg(test)]
mod tests {
    #[test]
    fn reads_passwd_lines_and_skips_broken_ones() {
        let users = super::parse(
            "root:x:0:0:root:/root:/bin/bash\nbroken\napp:x:1000:100::/home/app:/bin/sh\nbad:x:uid:1::/:\n",
        );
        assert_eq!(users.len(), 2);
        assert_eq!(users[1].name, "app");
        assert_eq!((users[1].uid, users[1].gid), (1000, 100));
        assert_eq!(users[1].home, "/home/app");
    }
}
