//! The user properties the emulator serves: names, Graph's default set (docs/protocol.md#listing-users), and
//! which ones `$filter` can compare.

/// A user property the emulator knows (docs/protocol.md#listing-users: default set first, in Graph's order).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prop {
    BusinessPhones,
    DisplayName,
    GivenName,
    JobTitle,
    Mail,
    MobilePhone,
    OfficeLocation,
    PreferredLanguage,
    Surname,
    UserPrincipalName,
    Id,
    AccountEnabled,
    City,
    CompanyName,
    Country,
    CreatedDateTime,
    Department,
    EmployeeId,
    MailNickname,
    State,
    UsageLocation,
    UserType,
}

use Prop::*;

/// Every property, Graph's default set first.
const ALL: &[Prop] = &[
    BusinessPhones,
    DisplayName,
    GivenName,
    JobTitle,
    Mail,
    MobilePhone,
    OfficeLocation,
    PreferredLanguage,
    Surname,
    UserPrincipalName,
    Id,
    AccountEnabled,
    City,
    CompanyName,
    Country,
    CreatedDateTime,
    Department,
    EmployeeId,
    MailNickname,
    State,
    UsageLocation,
    UserType,
];

/// Returned when no `$select` is given (docs/protocol.md#listing-users): the first eleven of `ALL`.
pub const DEFAULT: &[Prop] = ALL.split_at(11).0;

/// Properties Graph returns only for a single user; on the collection they give 501 (docs/protocol.md#listing-users).
pub const SINGLE_ONLY: &[&str] = &[
    "aboutMe",
    "birthday",
    "hireDate",
    "interests",
    "mySite",
    "pastProjects",
    "preferredName",
    "responsibilities",
    "schools",
    "skills",
    "mailboxSettings",
];

impl Prop {
    pub fn name(self) -> &'static str {
        match self {
            BusinessPhones => "businessPhones",
            DisplayName => "displayName",
            GivenName => "givenName",
            JobTitle => "jobTitle",
            Mail => "mail",
            MobilePhone => "mobilePhone",
            OfficeLocation => "officeLocation",
            PreferredLanguage => "preferredLanguage",
            Surname => "surname",
            UserPrincipalName => "userPrincipalName",
            Id => "id",
            AccountEnabled => "accountEnabled",
            City => "city",
            CompanyName => "companyName",
            Country => "country",
            CreatedDateTime => "createdDateTime",
            Department => "department",
            EmployeeId => "employeeId",
            MailNickname => "mailNickname",
            State => "state",
            UsageLocation => "usageLocation",
            UserType => "userType",
        }
    }

    /// By name, case-insensitively (Graph's `$select` and `$filter` are).
    pub fn from_name(name: &str) -> Option<Prop> {
        ALL.iter()
            .copied()
            .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    /// Whether the value is a string (or null) that `eq` and `startswith` apply to.
    pub fn is_text(self) -> bool {
        !matches!(self, BusinessPhones | AccountEnabled | CreatedDateTime)
    }
}
