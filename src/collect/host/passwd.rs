//! The system's user database, through NSS (`getpwuid_r`, `getpwnam_r`):
//! `/etc/passwd`, and LDAP or SSSD users where the host is set up for them.
//! Names for the process table, and uids and homes for exec's run-as.

use std::collections::HashMap;
use std::ffi::{CStr, CString};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: u32,
    /// The primary group the database gives; `None` for a uid it does
    /// not know (exec then takes the target process's own gid).
    pub gid: Option<u32>,
    pub home: String,
}

/// Runs one reentrant lookup, growing the buffer while NSS asks for more.
fn lookup(
    call: impl Fn(*mut libc::passwd, *mut libc::c_char, usize, *mut *mut libc::passwd) -> i32,
) -> Option<User> {
    let mut size = 1024;
    loop {
        let mut buf = vec![0 as libc::c_char; size];
        // SAFETY: an all-zero passwd is a valid value to be written over.
        let mut entry: libc::passwd = unsafe { std::mem::zeroed() };
        let mut found: *mut libc::passwd = std::ptr::null_mut();
        let rc = call(&mut entry, buf.as_mut_ptr(), buf.len(), &mut found);
        if rc == libc::ERANGE && size < 1 << 20 {
            size *= 4;
            continue;
        }
        if rc != 0 || found.is_null() {
            return None;
        }
        // SAFETY: on success the strings point into `buf`, which is alive.
        let text = |p: *const libc::c_char| {
            if p.is_null() {
                String::new()
            } else {
                unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
            }
        };
        return Some(User {
            name: text(entry.pw_name),
            uid: entry.pw_uid,
            gid: Some(entry.pw_gid),
            home: text(entry.pw_dir),
        });
    }
}

/// The user with this uid: from the database, else a bare number.
pub fn by_uid(uid: u32) -> User {
    // SAFETY: the pointers come from `lookup`, valid for this call.
    lookup(|pw, buf, len, out| unsafe { libc::getpwuid_r(uid, pw, buf, len, out) }).unwrap_or_else(
        || User {
            name: uid.to_string(),
            uid,
            gid: None,
            home: "/".into(),
        },
    )
}

pub fn by_name(name: &str) -> Option<User> {
    let name = CString::new(name).ok()?;
    // SAFETY: as above; `name` outlives the call.
    lookup(|pw, buf, len, out| unsafe { libc::getpwnam_r(name.as_ptr(), pw, buf, len, out) })
}

/// User names by uid for the process table, looked up once each.
#[derive(Default)]
pub struct Names(HashMap<u32, String>);

/// Distinct uids remembered at most; past this the cache starts over.
const MAX_NAMES: usize = 4096;

impl Names {
    pub fn get(&mut self, uid: u32) -> String {
        if let Some(name) = self.0.get(&uid) {
            return name.clone();
        }
        if self.0.len() >= MAX_NAMES {
            self.0.clear();
        }
        let name = by_uid(uid).name;
        self.0.insert(uid, name.clone());
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_users_through_the_system_database() {
        let root = by_uid(0);
        assert_eq!((root.name.as_str(), root.gid), ("root", Some(0)));
        assert_eq!(by_name("root").map(|u| u.uid), Some(0));
        assert!(by_name("no-such-user-day2top").is_none());
        assert!(by_name("bad\0name").is_none());
        let unknown = by_uid(3_999_999_999);
        assert_eq!(unknown.name, "3999999999");
        assert_eq!(unknown.gid, None, "no guess at the group of an unknown uid");
        let mut names = Names::default();
        assert_eq!(names.get(0), "root");
        assert_eq!(names.get(0), "root");
    }
}
