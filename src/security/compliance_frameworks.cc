#include "security/compliance_frameworks.h"

namespace herald::security {
namespace {

// The table below is constant data in static storage: nothing is built at start-up.
//
// Which edition each framework's ids come from (an item whose id could not be confirmed is left out
// rather than guessed):
//  * DSPT 2025-26: the CAF-aligned toolkit NHS England sets for trusts, ICBs, CSUs and ALBs. Its
//    objectives A to D follow NCSC CAF v3.2, so its ids differ from CAF v4.0 where v4.0 renumbered:
//    here A2.b is "Assurance", C1.a "Monitoring coverage", C2.a "System abnormalities for attack
//    detection" and D2.a "Incident root cause analysis". Objective E (using and sharing information)
//    is the DSPT's own; only E4.a, whose id NHS England's guidance confirms, is cited.
//  * NCSC CAF v4.0 (August 2025): 41 contributing outcomes; new are A2.b Understanding threat,
//    A4.b Secure software development and support and C1.f, with Assurance moved to A2.c and
//    principle C2 now Threat hunting (C2.a only).
//  * Cyber Essentials: the five technical control themes of "Requirements for IT infrastructure";
//    the scheme does not number them, so each theme's name is its id.
//  * ISO/IEC 27001:2022 Annex A: control numbers as in the standard ("8.24").
// Sources: digital.nhs.uk's CAF-aligned DSPT guidance and independent assessment framework, and
// dsptoolkit.nhs.uk news; the CAF v4.0 text as transcribed in the Cabinet Office's WebCAF
// (github.com/co-cddo/domains-webcaf, frameworks/); www.cyberessentials.ncsc.gov.uk; the DSPT's
// big picture guides for the NDG standards.

constexpr std::string_view kConfigCheck = "config.check";
constexpr std::string_view kTlsSettings = "tls.settings";
constexpr std::string_view kKeysRotation = "keys.rotation";
constexpr std::string_view kEncryptionAtRest = "encryption.at_rest";
constexpr std::string_view kBackupRecent = "backup.recent";
constexpr std::string_view kBackupRestoreVerified = "backup.restore_verified";
constexpr std::string_view kAuditChain = "audit.chain";
constexpr std::string_view kRetentionPolicy = "retention.policy";
constexpr std::string_view kAdminTwoFactor = "admin.two_factor";
constexpr std::string_view kStoreLeastPrivilege = "store.least_privilege";
constexpr std::string_view kNetworkRestrictions = "network.restrictions";
constexpr std::string_view kIntrusionDetection = "intrusion.detection";
constexpr std::string_view kAdvisoriesStatus = "advisories.status";
constexpr std::string_view kReleaseProvenance = "release.provenance";
constexpr std::string_view kPentestResults = "pentest.results";

constexpr std::string_view kEvidenceIds[] = {
    kConfigCheck,           kTlsSettings,        kKeysRotation,     kEncryptionAtRest,  kBackupRecent,
    kBackupRestoreVerified, kAuditChain,         kRetentionPolicy,  kAdminTwoFactor,    kStoreLeastPrivilege,
    kNetworkRestrictions,   kIntrusionDetection, kAdvisoriesStatus, kReleaseProvenance, kPentestResults,
};

constexpr std::string_view kDspt = "DSPT 2025-26";
constexpr std::string_view kNdg = "NDG data security standards";
constexpr std::string_view kCaf = "NCSC CAF v4.0";
constexpr std::string_view kCyberEssentials = "Cyber Essentials";
constexpr std::string_view kIso = "ISO/IEC 27001:2022 Annex A";

constexpr std::string_view kFrameworks[] = {kDspt, kNdg, kCaf, kCyberEssentials, kIso};

// The evidence an item rests on, one list per combination the items use.
constexpr std::string_view kOnConfig[] = {kConfigCheck};
constexpr std::string_view kOnConfigTls[] = {kConfigCheck, kTlsSettings};
constexpr std::string_view kOnTls[] = {kTlsSettings};
constexpr std::string_view kOnCrypto[] = {kEncryptionAtRest, kKeysRotation, kTlsSettings};
constexpr std::string_view kOnStoredData[] = {kEncryptionAtRest, kKeysRotation, kBackupRecent};
constexpr std::string_view kOnPersonalData[] = {kEncryptionAtRest, kTlsSettings, kRetentionPolicy};
constexpr std::string_view kOnPrivacy[] = {kEncryptionAtRest, kRetentionPolicy};
constexpr std::string_view kOnBackups[] = {kBackupRecent, kBackupRestoreVerified};
constexpr std::string_view kOnRestore[] = {kBackupRestoreVerified};
constexpr std::string_view kOnRecords[] = {kAuditChain, kBackupRecent};
constexpr std::string_view kOnAudit[] = {kAuditChain};
constexpr std::string_view kOnAuditAndAdmins[] = {kAuditChain, kAdminTwoFactor};
constexpr std::string_view kOnAuditAndDetection[] = {kAuditChain, kIntrusionDetection};
constexpr std::string_view kOnDetection[] = {kIntrusionDetection};
constexpr std::string_view kOnDetectionAndAdvisories[] = {kIntrusionDetection, kAdvisoriesStatus};
constexpr std::string_view kOnDetectionAndRestore[] = {kIntrusionDetection, kBackupRestoreVerified};
constexpr std::string_view kOnRetention[] = {kRetentionPolicy};
constexpr std::string_view kOnAdmins[] = {kAdminTwoFactor};
constexpr std::string_view kOnPrivileged[] = {kAdminTwoFactor, kStoreLeastPrivilege};
constexpr std::string_view kOnStoreRoles[] = {kStoreLeastPrivilege};
constexpr std::string_view kOnAccess[] = {kAdminTwoFactor, kStoreLeastPrivilege, kNetworkRestrictions};
constexpr std::string_view kOnAccessRestriction[] = {kStoreLeastPrivilege, kNetworkRestrictions};
constexpr std::string_view kOnDesign[] = {kNetworkRestrictions, kStoreLeastPrivilege, kEncryptionAtRest};
constexpr std::string_view kOnManagement[] = {kAdminTwoFactor, kNetworkRestrictions, kAuditChain};
constexpr std::string_view kOnFirewalls[] = {kNetworkRestrictions, kConfigCheck};
constexpr std::string_view kOnNetworks[] = {kNetworkRestrictions, kTlsSettings};
constexpr std::string_view kOnProtection[] = {kConfigCheck, kNetworkRestrictions, kAdvisoriesStatus, kPentestResults};
constexpr std::string_view kOnVulnerabilities[] = {kAdvisoriesStatus, kPentestResults};
constexpr std::string_view kOnUpdates[] = {kAdvisoriesStatus, kReleaseProvenance};
constexpr std::string_view kOnProvenance[] = {kReleaseProvenance};
constexpr std::string_view kOnSupplyChain[] = {kReleaseProvenance, kAdvisoriesStatus};
constexpr std::string_view kOnDevelopment[] = {kReleaseProvenance, kPentestResults, kAdvisoriesStatus};
constexpr std::string_view kOnLifeCycle[] = {kReleaseProvenance, kPentestResults};
constexpr std::string_view kOnTesting[] = {kPentestResults};
constexpr std::string_view kOnAssurance[] = {kPentestResults, kConfigCheck, kReleaseProvenance};

constexpr FrameworkItem kItems[] = {
    // DSPT 2025-26 (CAF v3.2 ids, plus the DSPT's objective E).
    {kDspt, "A2.b", "Assurance", kOnAssurance,
     "Herald brings its own proof of effectiveness: penetration tests with nothing above low, a configuration check "
     "without high findings and a binary traceable to signed provenance.",
     "Independent assurance of the whole service, acting on what it finds and reporting it to the board are yours."},
    {kDspt, "A3.a", "Asset management", kOnProvenance,
     "The SBOM bound to the running binary by its signed provenance lists every component and version Herald "
     "brings into your estate.",
     "The register of hosts, databases, networks, data and people around Herald is yours to keep."},
    {kDspt, "A4.a", "Supply chain", kOnSupplyChain,
     "Herald shows where its code comes from (signed commits, a reproducible build, signed provenance and SBOM) and "
     "that none of its components has an open advisory.",
     "Due diligence and contracts with Herald's supplier and your other suppliers (hosting, SMS, email, print) are "
     "yours."},
    {kDspt, "B2.a", "Identity verification, authentication and authorisation", kOnAccess,
     "Admin users sign in with two factors, API keys can be confined to CIDR networks and each component reaches "
     "the database under a role of its own.",
     "Checking who someone is before they get an admin account or an API key, and removing it when they go, is "
     "yours."},
    {kDspt, "B2.c", "Privileged user management", kOnPrivileged,
     "Every admin has a second factor enforced, sensitive admin actions ask for it again, and no component holds "
     "database privileges beyond its own grants.",
     "Deciding and reviewing who holds admin, database-owner and host root access is yours."},
    {kDspt, "B3.b", "Data in transit", kOnTls,
     "Herald speaks only TLS 1.2 or newer with forward-secret AEAD suites, under a valid certificate that is not "
     "self-signed in production.",
     "Links Herald does not terminate itself (load balancer, database, mail and SMS relays) are yours to protect."},
    {kDspt, "B3.c", "Stored data", kOnStoredData,
     "Patient details are sealed field by field with AES-256-GCM in the database, its WAL and the backups, under "
     "data keys and a KEK kept within their rotation age.",
     "Protecting where the KEK, key backups and backup copies live, and the disks beneath them, is yours."},
    {kDspt, "B4.a", "Secure by design", kOnDesign,
     "Herald is split into roles that listen only where they must, each with least database privilege, and it "
     "never stores personal data in clear.",
     "The design of the network and hosts Herald runs in, such as segmentation and hardened images, is yours."},
    {kDspt, "B4.b", "Secure configuration", kOnConfigTls,
     "Herald's configuration check reports no high deviation from its hardening baseline (TLS, listeners, secret "
     "files, no inline secrets, no core dumps, not root).",
     "Hardening the operating system, database server and network devices under Herald is yours."},
    {kDspt, "B4.c", "Secure management", kOnManagement,
     "Herald is administered through a two-factor admin UI bound where intended (loopback by default), and every "
     "step lands in the tamper-evident audit log.",
     "Securing administrators' devices and the channels into the hosts, and host administration itself, is yours."},
    {kDspt, "B4.d", "Vulnerability management", kOnVulnerabilities,
     "The running build's SBOM matches no advisory in your feed, and the latest penetration tests of both APIs "
     "found nothing above low.",
     "Patching the operating system and other software around Herald, and upgrading Herald when an advisory lands, "
     "is yours."},
    {kDspt, "B5.a", "Resilience preparation", kOnRestore,
     "A recent backup has been restored successfully, so bringing the message store back is known to work.",
     "Continuity plans, recovery objectives and rehearsing recovery of the whole service are yours."},
    {kDspt, "B5.c", "Backups", kOnBackups,
     "Encrypted, authenticated backups are taken within policy, and one has been verified by restoring it.",
     "Keeping backup copies away from the host and out of an attacker's reach, and backing up the keys separately, "
     "is yours."},
    {kDspt, "C1.a", "Monitoring coverage", kOnAuditAndDetection,
     "Herald records refused authentications, admin actions, key and retention runs in its audit log, and raises "
     "detector events to syslog, metrics and a SIEM webhook.",
     "Gathering these with host, network and database logs, and watching them, is yours."},
    {kDspt, "C1.b", "Securing logs", kOnAudit,
     "The audit log is hash-chained with Ed25519-signed checkpoints that are recent, and it verifies end to end, so "
     "an edit or deletion shows.",
     "Sending checkpoints to a witness off the host and limiting who can read or remove log copies are yours."},
    {kDspt, "C1.c", "Generating alerts", kOnDetection,
     "Herald alerts on authentication failures, enumeration, token replay, new networks, unusual volume or hours and "
     "certificate errors.",
     "Routing those alerts to people who will act on them, at any hour, is yours."},
    {kDspt, "C2.a", "System abnormalities for attack detection", kOnDetection,
     "Herald learns each credential's usual networks, hours and request volume and reports departures from them.",
     "Deciding what else is abnormal for your service, and looking for it across your estate, is yours."},
    {kDspt, "D1.b", "Response and recovery capability", kOnDetectionAndRestore,
     "Herald blocks attacking sources on every node by itself and has a backup proved by a restore to recover from.",
     "An incident team, its plan and the authority to act, including reporting breaches, are yours."},
    {kDspt, "D2.a", "Incident root cause analysis", kOnAudit,
     "The verified audit log is a record of who did what and when that an investigation can rely on.",
     "Carrying out the analysis and seeing its lessons through are yours."},
    {kDspt, "E4.a", "Managing records", kOnRetention,
     "Herald applies each service's retention period, redacting or deleting personal data (and shredding its keys) "
     "when it ends while keeping counts.",
     "Choosing periods that follow the NHS records management code, and records held outside Herald, are yours."},

    // The National Data Guardian's ten data security standards.
    {kNdg, "Standard 1", "Personal confidential data", kOnPersonalData,
     "Herald keeps patient data sealed at rest, sends it only over TLS and removes it once the retention period "
     "ends.",
     "Deciding what is shared, with whom and on what basis, and staff handling of data outside Herald, are yours."},
    {kNdg, "Standard 2", "Staff responsibilities", kOnAuditAndAdmins,
     "Each admin works under a named two-factor account and every action is in the tamper-evident audit log, so "
     "use is attributable to a person.",
     "Making sure staff know their duties, and that their use of systems is logged and theirs to answer for, is "
     "yours."},
    {kNdg, "Standard 3", "Training", kOnAudit,
     "Herald trains no one; its audit log of admin actions and refusals only shows where practice may need "
     "attention.",
     "Annual data security training for all staff, and checking it was passed, is wholly yours."},
    {kNdg, "Standard 4", "Managing data access", kOnAccess,
     "Access is through named two-factor admin accounts and CIDR-confined API keys, and each component's database "
     "role holds only its grants.",
     "Giving access only to those whose role needs it, and taking it away promptly, is yours."},
    {kNdg, "Standard 5", "Process reviews", kOnAuditAndDetection,
     "Herald keeps a verifiable record of the breaches and near misses it sees (refusals, blocks, detector events) "
     "to feed reviews.",
     "Reviewing processes at least yearly and changing those behind breaches or near misses is yours."},
    {kNdg, "Standard 6", "Responding to incidents", kOnAuditAndDetection,
     "Herald spots and resists attacks on its APIs (detector events, blocks shared by every node) and records them "
     "in a verifiable log.",
     "Acting on incidents, reporting breaches and responding to NHS England's cyber alerts are yours."},
    {kNdg, "Standard 7", "Continuity planning", kOnBackups,
     "Herald has a backup within policy and a restore has proved it, so its data can be brought back after an "
     "incident.",
     "A continuity plan for data security incidents, tested at least once a year, is yours."},
    {kNdg, "Standard 8", "Unsupported systems", kOnUpdates,
     "The running build's components are known from its SBOM, and none is affected by an advisory in your feed.",
     "Keeping the operating system, database and the browsers used with Herald on supported versions is yours."},
    {kNdg, "Standard 9", "IT protection", kOnProtection,
     "Herald's hardened configuration, network limits, advisory checks and penetration test results show its own "
     "defences against cyber threats.",
     "A strategy for protecting the rest of your IT, reviewed each year, is yours."},
    {kNdg, "Standard 10", "Accountable suppliers", kOnProvenance,
     "Herald's release provenance lets you check that what you run is exactly what its supplier built, signed and "
     "you promoted.",
     "Holding Herald's supplier and your other suppliers to the standards by contract is yours."},

    // NCSC Cyber Assessment Framework v4.0 contributing outcomes.
    {kCaf, "A2.c", "Assurance", kOnAssurance,
     "Herald supplies evidence that its controls work: penetration tests with nothing above low, a clean "
     "configuration check and provenance for the running binary.",
     "Independent assurance across the whole essential function, and acting on it, are yours."},
    {kCaf, "A3.a", "Asset management", kOnProvenance,
     "The signed SBOM of the running build inventories every component Herald contributes.",
     "The inventory of everything else the essential function relies on, and its dependencies, is yours."},
    {kCaf, "A4.a", "Supply chain", kOnSupplyChain,
     "Herald evidences its own supply chain: signed commits, reproducible builds, signed provenance and an SBOM "
     "checked against your advisory feed.",
     "Managing the risk from Herald's supplier and every other supplier, including contracts, is yours."},
    {kCaf, "A4.b", "Secure software development and support", kOnDevelopment,
     "Herald is built reproducibly from signed commits, promoted through staging with signed provenance and an SBOM, "
     "fuzzed and penetration tested, and watched for advisories.",
     "Satisfying yourself of the supplier's development practice and support commitments is yours."},
    {kCaf, "B2.a", "Identity verification, authentication and authorisation", kOnAccess,
     "Admin users need two factors, API keys can be held to CIDR networks and each component authenticates to the "
     "database as its own role.",
     "Identity checks before credentials are issued, and revoking them on leaving, are yours."},
    {kCaf, "B2.c", "Privileged user management", kOnPrivileged,
     "Privileged admin actions need a fresh second factor, and database privilege is split per component.",
     "Who holds privileged accounts, on Herald's hosts and database too, and reviewing them, is yours."},
    {kCaf, "B3.b", "Data in transit", kOnTls,
     "Herald allows only TLS 1.2 or newer with forward-secret AEAD suites and a valid, CA-issued certificate.",
     "Protecting the connections around Herald that it does not terminate is yours."},
    {kCaf, "B3.c", "Stored data", kOnStoredData,
     "Personal data is sealed with AES-256-GCM field by field in the database, WAL and backups, under keys within "
     "their rotation age.",
     "Physical and host protection of the stores, key material and backup media is yours."},
    {kCaf, "B4.a", "Secure by design", kOnDesign,
     "Herald's roles listen only where needed, use least-privilege database roles and hold personal data only "
     "encrypted.",
     "The architecture of the surrounding network and systems is yours."},
    {kCaf, "B4.b", "Secure configuration", kOnConfigTls,
     "Herald's configuration check shows no high finding against its hardening baseline, including its TLS policy.",
     "Secure builds of the hosts, database and network equipment are yours."},
    {kCaf, "B4.c", "Secure management", kOnManagement,
     "Administration is through a two-factor admin UI on an intended listener, every action recorded in the "
     "tamper-evident audit log.",
     "Administrators' devices and management networks are yours to secure."},
    {kCaf, "B4.d", "Vulnerability management", kOnVulnerabilities,
     "Herald's SBOM is matched against your advisory feed with no affected component, and penetration tests found "
     "nothing above low.",
     "Tracking and fixing vulnerabilities in everything else, and applying Herald's updates, is yours."},
    {kCaf, "B5.a", "Resilience preparation", kOnRestore,
     "A backup has been proved by restoring it, so recovery of Herald's data is rehearsed.",
     "Planning and exercising the recovery of the whole essential function is yours."},
    {kCaf, "B5.c", "Backups", kOnBackups,
     "Encrypted backups are made within policy and one has been verified by a restore.",
     "Keeping backups separate and out of an attacker's reach, keys included, is yours."},
    {kCaf, "C1.a", "Sources and tools for logging and monitoring", kOnAuditAndDetection,
     "Herald produces a verified audit log and detector events on syslog, metrics and a SIEM webhook.",
     "Collecting them with your other sources and choosing the tools to watch them is yours."},
    {kCaf, "C1.b", "Securing logs", kOnAudit,
     "The audit log's hash chain and recent Ed25519-signed checkpoints make any change to it detectable.",
     "Keeping log copies and checkpoint witnesses out of reach of whoever controls the host is yours."},
    {kCaf, "C1.c", "Generating alerts", kOnDetection,
     "Herald's detectors turn attacks on its interfaces into alerts and temporary blocks.",
     "Alerting on everything outside Herald, and tuning what reaches people, is yours."},
    {kCaf, "C1.f", "Understanding user and system behaviour, and threat intelligence", kOnDetectionAndAdvisories,
     "Herald baselines each credential's networks, hours and volume and reports departures, and checks its "
     "components against your advisory feed.",
     "Bringing threat intelligence about your sector and behaviour across your estate into monitoring is yours."},
    {kCaf, "D1.b", "Response and recovery capability", kOnDetectionAndRestore,
     "Herald contains attacks on its APIs by blocking sources on every node, and a restore-verified backup is ready.",
     "The people, plan and authority to respond and recover are yours."},
    {kCaf, "D2.a", "Post incident analysis", kOnAudit,
     "The verified audit log gives investigators a trustworthy account of what happened in Herald.",
     "The analysis itself, and acting on it, are yours."},

    // Cyber Essentials technical controls.
    {kCyberEssentials, "Firewalls", "Firewalls", kOnFirewalls,
     "Herald listens only on the addresses its roles need, admits API keys only from their CIDR networks and "
     "connects out only to its egress allow-list.",
     "The boundary and host firewalls themselves, their rules and their admin interfaces are yours."},
    {kCyberEssentials, "Secure configuration", "Secure configuration", kOnConfigTls,
     "Herald is safe by default, and its configuration check confirms no inline secrets, private secret files, no "
     "core dumps, no root and TLS 1.2 or newer.",
     "Removing unneeded software and accounts from the devices in scope is yours."},
    {kCyberEssentials, "Security update management", "Security update management", kOnUpdates,
     "Herald shows whether any component of the running build has a known advisory, so an update that matters is "
     "visible at once.",
     "Installing high and critical updates to Herald and everything else in scope within 14 days is yours."},
    {kCyberEssentials, "User access control", "User access control", kOnPrivileged,
     "Admin accounts are personal and need two factors, and each Herald component uses a database role with only "
     "its own grants.",
     "Approving, reviewing and removing accounts on every system in scope is yours."},
    {kCyberEssentials, "Malware protection", "Malware protection", kOnProvenance,
     "Herald's running binary is checked against signed provenance, so only software its supplier built and you "
     "promoted is running as Herald.",
     "Anti-malware or application allow-listing on the hosts and staff devices in scope is yours."},

    // ISO/IEC 27001:2022 Annex A controls.
    {kIso, "5.15", "Access control", kOnAccess,
     "Herald enforces two-factor admin access, CIDR-confined API keys and per-component database roles.",
     "The access control policy those rules carry out is yours to set."},
    {kIso, "5.17", "Authentication information", kOnConfig,
     "Herald's configuration check refuses secrets written into its configuration and secret files others can read.",
     "Issuing, storing and changing the secrets (passwords, API keys, PINs) is yours."},
    {kIso, "5.18", "Access rights", kOnStoreRoles,
     "Each Herald component connects to PostgreSQL with a role holding only the grants it needs.",
     "Granting, reviewing and revoking people's access rights is yours."},
    {kIso, "5.21", "Managing information security in the ICT supply chain", kOnSupplyChain,
     "Herald's signed provenance and SBOM, checked against your advisory feed, make its own supply chain "
     "verifiable.",
     "Your requirements on ICT suppliers and their monitoring are yours."},
    {kIso, "5.25", "Assessment and decision on information security events", kOnDetection,
     "Herald's detectors classify what they see into named security events, blocking sources where rules say so.",
     "Deciding which events are incidents, and what follows, is yours."},
    {kIso, "5.28", "Collection of evidence", kOnAudit,
     "The hash-chained, signed audit log is evidence whose integrity anyone can check.",
     "Procedures for preserving evidence for legal or disciplinary use are yours."},
    {kIso, "5.30", "ICT readiness for business continuity", kOnBackups,
     "Herald's backups are current and proved by a restore.",
     "Continuity objectives and plans for the whole service, and testing them, are yours."},
    {kIso, "5.33", "Protection of records", kOnRecords,
     "Herald's audit records cannot be changed unnoticed, and its data is backed up within policy.",
     "Deciding which records to keep, and for how long, is yours."},
    {kIso, "5.34", "Privacy and protection of PII", kOnPrivacy,
     "Personal data is sealed at rest and removed when the service's retention period ends.",
     "Lawful basis, privacy notices and data subject rights are yours."},
    {kIso, "8.2", "Privileged access rights", kOnPrivileged,
     "Privileged admin actions need a recent second factor, and no component has more database privilege than its "
     "work needs.",
     "Allocating and reviewing privileged access, on hosts and database too, is yours."},
    {kIso, "8.3", "Information access restriction", kOnAccessRestriction,
     "Database grants per component and network limits per API key restrict what each can reach.",
     "Defining who should see which information is yours."},
    {kIso, "8.5", "Secure authentication", kOnAdmins,
     "Every admin-UI user must sign in with a password and a second factor (TOTP or WebAuthn).",
     "Secure authentication to the hosts and other systems around Herald is yours."},
    {kIso, "8.7", "Protection against malware", kOnProvenance,
     "Only a binary matching signed provenance is accepted as Herald, so a tampered build shows.",
     "Malware protection on the hosts and users' devices is yours."},
    {kIso, "8.8", "Management of technical vulnerabilities", kOnVulnerabilities,
     "Herald's components are checked against your advisory feed, and its penetration tests found nothing above "
     "low.",
     "Managing vulnerabilities in the rest of the estate, and patching promptly, is yours."},
    {kIso, "8.9", "Configuration management", kOnConfigTls,
     "Herald's configuration check compares each node with Herald's hardening baseline and reports no high finding.",
     "Keeping configuration baselines for the hosts and database, and controlling changes to them, is yours."},
    {kIso, "8.10", "Information deletion", kOnRetention,
     "Herald redacts or deletes personal data, and destroys its keys, when the retention period ends.",
     "Deleting copies held outside Herald, such as exports and old backup media, is yours."},
    {kIso, "8.13", "Information backup", kOnBackups,
     "Backups are made within policy, encrypted and authenticated, and one has been restored to prove it.",
     "The backup policy and keeping copies away from the host are yours."},
    {kIso, "8.15", "Logging", kOnAudit,
     "Herald's audit log records security events in a chain of hashes with signed checkpoints that verifies end to "
     "end.",
     "Logging on the hosts, database and network, and reviewing logs, is yours."},
    {kIso, "8.16", "Monitoring activities", kOnDetection,
     "Herald watches its own interfaces for abnormal behaviour and reports it to the audit log, syslog, metrics and a "
     "SIEM webhook.",
     "Monitoring the rest of the network and systems, and responding, is yours."},
    {kIso, "8.20", "Networks security", kOnNetworks,
     "Herald's listeners, per-key CIDR lists and egress allow-list limit its network exposure, and all its "
     "traffic uses TLS.",
     "Securing and segmenting the networks it runs on is yours."},
    {kIso, "8.24", "Use of cryptography", kOnCrypto,
     "Herald seals personal data with AES-256-GCM, rotates its data keys and KEK, and allows only modern TLS.",
     "Your cryptography policy and the custody of key material outside Herald are yours."},
    {kIso, "8.25", "Secure development life cycle", kOnLifeCycle,
     "Herald is built reproducibly from signed commits with signed provenance, fuzzed and penetration tested before "
     "release.",
     "Confirming the supplier's life cycle meets your requirements is yours."},
    {kIso, "8.29", "Security testing in development and acceptance", kOnTesting,
     "Recent testssl.sh, sqlmap and fuzzing results are kept with the source, with nothing above low.",
     "Acceptance testing in your own environment before go-live is yours."},
    {kIso, "8.32", "Change management", kOnProvenance,
     "Every release is promoted through staging, and the running binary can be traced to it by signed provenance.",
     "Approving and scheduling changes in your environment is yours."},
};

}  // namespace

std::span<const std::string_view> evidence_ids() { return kEvidenceIds; }
std::span<const std::string_view> frameworks() { return kFrameworks; }
std::span<const FrameworkItem> framework_items() { return kItems; }

}  // namespace herald::security
