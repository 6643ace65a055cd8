//! The table itself: one row per endpoint of the admin API, in the order literal paths must
//! be tried before the patterns they also match.

use super::Answer::{
    Backup as BackupFile, Csv as CsvAnswer, Document, Json, List, Metrics as MetricsText, Page,
    PhoneFile,
};
use super::Body::{BulkJson, Csv, Firmware, Json as JsonBody, None as NoBody, OptionalJson};
use super::*;
use crate::admin::schemas as s;

endpoints! {
    OpenApi = GET "/openapi.json" {
        name: "getOpenApi", tag: "meta", summary: "This OpenAPI document",
        access: Read, audit: None, body: NoBody, answer: 200 Document,
        query: [], errors: [],
    }
    /// At the listener's root, not under /api/v1: `https://HOST:8444/metrics`. For an admin
    /// token, or without one from an address in `metrics.allow_networks`. README lists every
    /// metric.
    Metrics = GET "/metrics" {
        name: "getMetrics", tag: "meta", summary: "Prometheus metrics",
        auth: TokenOrScrapeAddress, mount: Root,
        access: Metrics, audit: None, body: NoBody, answer: 200 MetricsText,
        query: [], errors: [],
    }
    /// In pages by MAC; every filter given must hold.
    ListDevices = GET "/devices" {
        name: "listDevices", tag: "devices", summary: "List registered devices",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::DeviceView>),
        query: [
            text("q", "Only devices whose MAC, label, location or model contains this text (any case), or with a line of this extension."),
            flag("unassigned", "Only devices with no user on any line and nobody logged in (true), or only those with (false)."),
            flag("hotdesk", "Only hot-desk phones (true) or only the others (false)."),
            flag("auto_registered", "Only devices adopted from the unregistered list (true), or only the others."),
            count("not_seen_days", "Only devices not seen for at least this many days, or never."),
            flag("never_seen", "Only devices that never fetched a file (true), or only those that did."),
            text("model", "Only this model (any case)."),
            text("profile", "Only devices inheriting from this profile."),
            text("location", "Only devices whose location contains this text (any case)."),
            flag("firmware_outdated", "Only devices that report another firmware than their firmware_version (true), or only the others."),
            flag("claim_contested", "Only devices whose claim was contested, to re-key (true), or only the others."),
            flag("model_mismatch", "Only devices that reported another model than the one on record (true), or only the others."),
        ],
        errors: [400],
    }
    /// Its model is optional: the phone fills it in at its first request.
    CreateDevice = POST "/devices" {
        name: "createDevice", tag: "devices", summary: "Register a device",
        access: Change, audit: Change, body: JsonBody(schema::<s::NewDevice>), answer: 201 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 409, 413],
    }
    /// All of them, or none when one is refused (the error names its index).
    CreateDevices = POST "/devices/bulk" {
        name: "createDevices", tag: "devices", summary: "Register many devices",
        access: Change, audit: Change, body: BulkJson(schema::<s::NewDevices>), answer: 201 List(schema::<s::DeviceView>),
        query: [], errors: [400, 409, 413],
    }
    /// All of them, or none when one is unknown; logins at them end, their uploads go.
    DeleteDevices = POST "/devices/bulk-delete" {
        name: "deleteDevices", tag: "devices", summary: "Delete many devices",
        access: Change, audit: Change, body: BulkJson(schema::<s::MacList>), answer: 200 Json(schema::<s::DeletedDevices>),
        query: [], errors: [400, 404, 413],
    }
    /// A new claim window and provisioning password for each device: all of them, or none
    /// when one is unknown. The new passwords are read with getDeviceCredentials.
    ResetDeviceClaims = POST "/devices/bulk-reset-claim" {
        name: "resetDeviceClaims", tag: "devices", summary: "Reset the claims of many devices",
        access: Helpdesk, audit: Change, body: BulkJson(schema::<s::MacList>), answer: 200 Json(schema::<s::ClaimsReset>),
        query: [], errors: [400, 404, 413],
    }
    /// Logs out whoever is logged in at each device (one where nobody is stays as it is); 409
    /// when nobody is logged in at any.
    LogoutDevices = POST "/devices/bulk-logout" {
        name: "logoutDevices", tag: "devices", summary: "Log out the hot-desk sessions of many devices",
        access: Helpdesk, audit: Change, body: BulkJson(schema::<s::MacList>), answer: 200 Json(schema::<s::DevicesLoggedOut>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// A SIP NOTIFY to each phone's last address; the answer says what each phone replied.
    /// All MACs must be registered, or nothing is sent.
    ResyncDevices = POST "/devices/bulk-resync" {
        name: "resyncDevices", tag: "devices", summary: "Tell many phones to fetch their config now",
        access: Helpdesk, audit: Change, body: JsonBody(schema::<s::MacsToTell>), answer: 200 List(schema::<s::NotifyResult>),
        query: [], errors: [400, 404, 413],
    }
    /// Phones whose vendor has no reboot NOTIFY answer `unsupported`.
    RebootDevices = POST "/devices/bulk-reboot" {
        name: "rebootDevices", tag: "devices", summary: "Tell many phones to reboot now",
        access: Change, audit: Change, body: JsonBody(schema::<s::MacsToTell>), answer: 200 List(schema::<s::NotifyResult>),
        query: [], errors: [400, 404, 413],
    }
    ShowDevice { mac: Mac } = GET "/devices/{mac}" {
        name: "getDevice", tag: "devices", summary: "Show a device",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404],
    }
    /// 409 when a line has a user beyond the model's line count, or hotdesk is turned on with
    /// a user on line 1.
    PatchDevice { mac: Mac } = PATCH "/devices/{mac}" {
        name: "updateDevice", tag: "devices", summary: "Change a device",
        access: Change, audit: Change, body: JsonBody(schema::<s::DevicePatch>), answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// Ends the logins at the phone and removes its uploads.
    DeleteDevice { mac: Mac } = DELETE "/devices/{mac}" {
        name: "deleteDevice", tag: "devices", summary: "Delete a device",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Deleted>),
        query: [], errors: [400, 404],
    }
    /// A line that has another user is refused (409) unless `replace` is true.
    AssignLine { mac: Mac, line: String } = PUT "/devices/{mac}/lines/{line}" {
        name: "assignLine", tag: "devices", summary: "Assign a user to a line",
        access: Change, audit: Change, body: JsonBody(schema::<s::LineAssignment>), answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404, 409, 413],
    }
    UnassignLine { mac: Mac, line: String } = DELETE "/devices/{mac}/lines/{line}" {
        name: "unassignLine", tag: "devices", summary: "Free a line",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404],
    }
    /// Opens a new claim window and replaces the provisioning password: for a phone that was
    /// factory-reset or replaced.
    ResetClaim { mac: Mac } = POST "/devices/{mac}/reset-claim" {
        name: "resetDeviceClaim", tag: "devices", summary: "Reopen the claim window",
        access: Helpdesk, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404],
    }
    /// For a claim someone else took (the device's `claim_contested`): new provisioning
    /// credentials (and hot-desk login token), so the taken config opens nothing, and a new
    /// claim window for the real phone; the address the claim came from gets no NOTIFY, the
    /// contest is cleared. Phones are not told.
    RekeyDevice { mac: Mac } = POST "/devices/{mac}/rekey" {
        name: "rekeyDevice", tag: "devices", summary: "Re-key a device whose claim was taken",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404],
    }
    /// A SIP NOTIFY to the phone's last address (answered with line 1's credentials where the
    /// phone challenges it); the answer says what the phone replied.
    ResyncDevice { mac: Mac } = POST "/devices/{mac}/resync" {
        name: "resyncDevice", tag: "devices", summary: "Tell a phone to fetch its config now",
        access: Helpdesk, audit: Change, body: NoBody, answer: 200 Json(schema::<s::NotifyResult>),
        query: [], errors: [400, 404],
    }
    RebootDevice { mac: Mac } = POST "/devices/{mac}/reboot" {
        name: "rebootDevice", tag: "devices", summary: "Tell a phone to reboot now",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::NotifyResult>),
        query: [], errors: [400, 404],
    }
    /// For a dead phone: lines, settings, profile, label, location, hot-desk flag, firmware
    /// target and certificate requirement move to the new MAC in one write; the old device's
    /// credentials are revoked, logins at it end, and the new one's claim window opens.
    ReplaceDevice { mac: Mac } = POST "/devices/{mac}/replace" {
        name: "replaceDevice", tag: "devices", summary: "Replace a phone by another",
        access: Change, audit: Change, body: JsonBody(schema::<s::Replacement>), answer: 200 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// For configuring a phone by hand; with the admin password of its own web interface.
    Credentials { mac: Mac } = GET "/devices/{mac}/credentials" {
        name: "getDeviceCredentials", tag: "devices", summary: "Show the provisioning credentials",
        access: Secrets, audit: SecretRead, body: NoBody, answer: 200 Json(schema::<s::Credentials>),
        query: [], errors: [400, 404],
    }
    /// 409 when nobody is logged in there.
    LogoutDevice { mac: Mac } = POST "/devices/{mac}/logout" {
        name: "logoutDevice", tag: "devices", summary: "Log out hot-desk users at a phone",
        access: Helpdesk, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeviceView>),
        query: [count("line", "Only this line or DECT handset slot.")],
        errors: [400, 404, 409],
    }
    /// Exactly what the phone would get, without the side effects of a phone request.
    RenderDevice { mac: Mac } = GET "/devices/{mac}/render" {
        name: "renderDeviceFile", tag: "devices", summary: "Render a file as the phone would get it",
        access: Secrets, audit: SecretRead, body: NoBody, answer: 200 PhoneFile,
        query: [
            text("file", "The file name the phone would ask for; its own config by default."),
            text("host", "The host (and port) the phone reaches the server by, when server.public_url is not set."),
        ],
        errors: [400, 404, 409],
    }
    /// This node's last events of the device, newest first: files served, refusals and why,
    /// its claim, what it reported, NOTIFYs sent, hot-desk logins. Kept in memory (at most
    /// limits.events_per_device for each of limits.event_log_devices devices) and lost on
    /// restart; MACs not registered are logged too. A MAC with no events gets an empty list.
    DeviceEvents { mac: Mac } = GET "/devices/{mac}/events" {
        name: "getDeviceEvents", tag: "devices", summary: "Show a device's recent events",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::DeviceEventLog>),
        query: [], errors: [400],
    }
    DeviceSettings { mac: Mac } = GET "/devices/{mac}/settings" {
        name: "getDeviceSettings", tag: "devices", summary: "Show a device's settings",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::DeviceSettings>),
        query: [], errors: [400, 404],
    }
    /// `null` removes a setting from the device's own layer.
    PatchDeviceSettings { mac: Mac } = PATCH "/devices/{mac}/settings" {
        name: "updateDeviceSettings", tag: "devices", summary: "Change a device's own settings",
        access: Change, audit: Change, body: JsonBody(schema::<s::SettingsPatch>), answer: 200 Json(schema::<s::DeviceSettings>),
        query: [], errors: [400, 404, 413],
    }
    /// In pages by MAC.
    ListUnregistered = GET "/unregistered" {
        name: "listUnregistered", tag: "devices", summary: "List unregistered devices that asked for a config",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::UnregisteredView>),
        query: [], errors: [400],
    }
    ForgetUnregistered { mac: Mac } = DELETE "/unregistered/{mac}" {
        name: "forgetUnregistered", tag: "devices", summary: "Forget an unregistered device",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Deleted>),
        query: [], errors: [400, 404],
    }
    /// With what its requests told about it (model, firmware, last seen).
    Adopt { mac: Mac } = POST "/unregistered/{mac}/adopt" {
        name: "adoptUnregistered", tag: "devices", summary: "Register an unregistered device",
        access: Change, audit: Change, body: OptionalJson(schema::<s::Adoption>), answer: 201 Json(schema::<s::DeviceView>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// In pages by extension.
    ListUsers = GET "/users" {
        name: "listUsers", tag: "users", summary: "List users",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::UserView>),
        query: [], errors: [400],
    }
    /// Without an extension, the lowest free one of users.extension_ranges; the answer carries
    /// the SIP password, and a generated PIN once.
    CreateUser = POST "/users" {
        name: "createUser", tag: "users", summary: "Create a user",
        access: Change, audit: Change, body: JsonBody(schema::<s::NewUser>), answer: 201 Json(schema::<s::UserView>),
        query: [], errors: [400, 409, 413],
    }
    NextExtension = GET "/users/next-extension" {
        name: "getNextExtension", tag: "users", summary: "The lowest free extension",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::NextExtension>),
        query: [], errors: [409],
    }
    /// All of them, or none when one is unknown.
    BulkUsers = POST "/users/bulk" {
        name: "bulkUsers", tag: "users", summary: "Lock, unlock or delete many users",
        access: Change, audit: Change, body: BulkJson(schema::<s::BulkAction>), answer: 200 Json(schema::<s::BulkResult>),
        query: [], errors: [400, 404, 413],
    }
    /// A welcome mail to each user, with a one-time link (valid an hour from sending) to set
    /// their portal password and, if they have none, their PIN: all of them, or none when one
    /// is unknown (404), locked (409) or has no e-mail address (400). 409 without `[mail]`.
    MailWelcome = POST "/users/mail-welcome" {
        name: "mailUsersWelcome", tag: "users", summary: "Send users a welcome mail",
        access: Change, audit: Change, body: BulkJson(schema::<s::ExtensionList>), answer: 202 Json(schema::<s::MailsQueued>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// A reset mail to each user, with a one-time link to set a new portal password; every
    /// earlier link stops working. All or none, as mailUsersWelcome.
    MailReset = POST "/users/mail-reset" {
        name: "mailUsersReset", tag: "users", summary: "Send users a password reset mail",
        access: Helpdesk, audit: Change, body: BulkJson(schema::<s::ExtensionList>), answer: 202 Json(schema::<s::MailsQueued>),
        query: [], errors: [400, 404, 409, 413],
    }
    ShowUser { extension: Extension } = GET "/users/{extension}" {
        name: "getUser", tag: "users", summary: "Show a user",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404],
    }
    PatchUser { extension: Extension } = PATCH "/users/{extension}" {
        name: "updateUser", tag: "users", summary: "Change a user",
        access: Change, audit: Change, body: JsonBody(schema::<s::UserPatch>), answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404, 413],
    }
    /// Frees every line they had and ends their login.
    DeleteUser { extension: Extension } = DELETE "/users/{extension}" {
        name: "deleteUser", tag: "users", summary: "Delete a user",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeletedUser>),
        query: [], errors: [400, 404],
    }
    SipPassword { extension: Extension } = GET "/users/{extension}/sip-password" {
        name: "getUserSipPassword", tag: "users", summary: "Show a user's SIP password",
        access: Secrets, audit: SecretRead, body: NoBody, answer: 200 Json(schema::<s::SipPasswordView>),
        query: [], errors: [400, 404],
    }
    /// Their phones lose the account at the next fetch, logins are refused, a hot-desk login
    /// ends now.
    LockUser { extension: Extension } = POST "/users/{extension}/lock" {
        name: "lockUser", tag: "users", summary: "Lock a user",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404],
    }
    /// Also clears a lockout after wrong PINs.
    UnlockUser { extension: Extension } = POST "/users/{extension}/unlock" {
        name: "unlockUser", tag: "users", summary: "Unlock a user",
        access: Helpdesk, audit: Change, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404],
    }
    /// A random PIN that follows the PIN policy, in the answer's `pin` this once.
    ResetUserPin { extension: Extension } = POST "/users/{extension}/reset-pin" {
        name: "resetUserPin", tag: "users", summary: "Give a user a new random PIN",
        access: Helpdesk, audit: Change, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404],
    }
    /// Set (`password`) or generate (`generate`, in the answer's `portal_password` this once)
    /// the user's self-service portal password, and/or `require_change` at the next portal
    /// login. A new password ends the user's portal sessions and invalidates one-time links.
    SetPortalPassword { extension: Extension } = POST "/users/{extension}/portal-password" {
        name: "setUserPortalPassword", tag: "users", summary: "Set or generate a user's portal password",
        access: Change, audit: Change, body: JsonBody(schema::<s::PortalPassword>), answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404, 413],
    }
    /// 409 when they are not logged in anywhere.
    LogoutUser { extension: Extension } = POST "/users/{extension}/logout" {
        name: "logoutUser", tag: "users", summary: "Log a user out of their hot-desk phone",
        access: Helpdesk, audit: Change, body: NoBody, answer: 200 Json(schema::<s::UserView>),
        query: [], errors: [400, 404, 409],
    }
    /// In pages by id.
    ListContacts = GET "/contacts" {
        name: "listContacts", tag: "phonebook", summary: "List the phonebook's contacts",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<crate::admin::contacts::ContactView>),
        query: [], errors: [400],
    }
    /// Users are in the phonebook with their extension by themselves; contacts are the rest.
    CreateContact = POST "/contacts" {
        name: "createContact", tag: "phonebook", summary: "Add a contact to the phonebook",
        access: Change, audit: Change, body: JsonBody(schema::<crate::admin::contacts::NewContact>), answer: 201 Json(schema::<crate::admin::contacts::ContactView>),
        query: [], errors: [400, 409, 413],
    }
    ShowContact { id: String } = GET "/contacts/{id}" {
        name: "getContact", tag: "phonebook", summary: "Show a contact",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<crate::admin::contacts::ContactView>),
        query: [], errors: [400, 404],
    }
    PatchContact { id: String } = PATCH "/contacts/{id}" {
        name: "updateContact", tag: "phonebook", summary: "Change a contact",
        access: Change, audit: Change, body: JsonBody(schema::<crate::admin::contacts::ContactPatch>), answer: 200 Json(schema::<crate::admin::contacts::ContactView>),
        query: [], errors: [400, 404, 413],
    }
    DeleteContact { id: String } = DELETE "/contacts/{id}" {
        name: "deleteContact", tag: "phonebook", summary: "Delete a contact",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeletedContact>),
        query: [], errors: [400, 404],
    }
    ShowSettings = GET "/settings" {
        name: "getSettings", tag: "settings", summary: "Show the site-wide settings",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::SettingsView>),
        query: [], errors: [],
    }
    /// `null` resets a setting to its default.
    PatchSettings = PATCH "/settings" {
        name: "updateSettings", tag: "settings", summary: "Change the site-wide settings",
        access: Site, audit: Change, body: JsonBody(schema::<s::SettingsPatch>), answer: 200 Json(schema::<s::SettingsView>),
        query: [], errors: [400, 413],
    }
    /// The device's own keys, or with `effective=true` all it gets.
    DeviceKeys { mac: Mac } = GET "/devices/{mac}/keys" {
        name: "getDeviceKeys", tag: "keys", summary: "Show a device's keys",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<s::KeyView>),
        query: [flag("effective", "The keys the phone gets (every layer, its lines and its hot-desk key, fitted to its model), each with the layer it came from.")], errors: [400, 404],
    }
    /// Replaces the device's own keys (`[]` clears them); refused when they do not fit its model and modules.
    PutDeviceKeys { mac: Mac } = PUT "/devices/{mac}/keys" {
        name: "setDeviceKeys", tag: "keys", summary: "Set a device's keys",
        access: Change, audit: Change, body: JsonBody(schema::<s::KeyList>), answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [400, 404, 413],
    }
    /// Keys every device of the profile inherits.
    ProfileKeys { name: ProfileName } = GET "/profiles/{name}/keys" {
        name: "getProfileKeys", tag: "keys", summary: "Show a profile's keys",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [404],
    }
    /// Replaces the profile's keys (`[]` clears them).
    PutProfileKeys { name: ProfileName } = PUT "/profiles/{name}/keys" {
        name: "setProfileKeys", tag: "keys", summary: "Set a profile's keys",
        access: Change, audit: Change, body: JsonBody(schema::<s::KeyList>), answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [400, 404, 413],
    }
    /// Keys every device of the model inherits.
    ModelKeys { model: String } = GET "/models/{model}/keys" {
        name: "getModelKeys", tag: "keys", summary: "Show a model's keys",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [404],
    }
    /// Replaces the model's keys (`[]` clears them); refused beyond the model and every module it takes.
    PutModelKeys { model: String } = PUT "/models/{model}/keys" {
        name: "setModelKeys", tag: "keys", summary: "Set a model's keys",
        access: Change, audit: Change, body: JsonBody(schema::<s::KeyList>), answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [400, 404, 413],
    }
    /// Keys that follow the user to any hot-desk phone while logged in there.
    UserKeys { extension: Extension } = GET "/users/{extension}/keys" {
        name: "getUserKeys", tag: "keys", summary: "Show a user's keys",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [404],
    }
    /// Replaces the user's keys (`[]` clears them).
    PutUserKeys { extension: Extension } = PUT "/users/{extension}/keys" {
        name: "setUserKeys", tag: "keys", summary: "Set a user's keys",
        access: Change, audit: Change, body: JsonBody(schema::<s::KeyList>), answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [400, 404, 413],
    }
    /// The first layer of every phone's keys.
    SiteKeys = GET "/settings/keys" {
        name: "getSiteKeys", tag: "keys", summary: "Show the site's keys",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [],
    }
    /// Replaces the site's keys (`[]` clears them).
    PutSiteKeys = PUT "/settings/keys" {
        name: "setSiteKeys", tag: "keys", summary: "Set the site's keys",
        access: Site, audit: Change, body: JsonBody(schema::<s::KeyList>), answer: 200 List(schema::<s::KeyView>),
        query: [], errors: [400, 413],
    }
    SettingChoices = GET "/settings/choices" {
        name: "getSettingChoices", tag: "settings", summary: "What the settings accept",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::SettingChoices>),
        query: [], errors: [],
    }
    /// In pages by name.
    ListProfiles = GET "/profiles" {
        name: "listProfiles", tag: "profiles", summary: "List settings profiles",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::ProfileView>),
        query: [], errors: [400],
    }
    CreateProfile = POST "/profiles" {
        name: "createProfile", tag: "profiles", summary: "Create a settings profile",
        access: Change, audit: Change, body: JsonBody(schema::<s::NewProfile>), answer: 201 Json(schema::<s::ProfileView>),
        query: [], errors: [400, 409, 413],
    }
    ShowProfile { name: ProfileName } = GET "/profiles/{name}" {
        name: "getProfile", tag: "profiles", summary: "Show a settings profile",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::ProfileView>),
        query: [], errors: [400, 404],
    }
    PatchProfile { name: ProfileName } = PATCH "/profiles/{name}" {
        name: "updateProfile", tag: "profiles", summary: "Change a settings profile",
        access: Change, audit: Change, body: JsonBody(schema::<s::ProfilePatch>), answer: 200 Json(schema::<s::ProfileView>),
        query: [], errors: [400, 404, 413],
    }
    /// 409 while devices inherit from it.
    DeleteProfile { name: ProfileName } = DELETE "/profiles/{name}" {
        name: "deleteProfile", tag: "profiles", summary: "Delete a settings profile",
        access: Change, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeletedProfile>),
        query: [], errors: [400, 404, 409],
    }
    /// In pages by vendor and model.
    ListModels = GET "/models" {
        name: "listModels", tag: "models", summary: "List the supported models",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::ModelView>),
        query: [], errors: [400],
    }
    ModelSettings { model: String } = GET "/models/{model}/settings" {
        name: "getModelSettings", tag: "models", summary: "Show a model's settings",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::ModelSettings>),
        query: [], errors: [404],
    }
    PatchModelSettings { model: String } = PATCH "/models/{model}/settings" {
        name: "updateModelSettings", tag: "models", summary: "Change a model's settings",
        access: Change, audit: Change, body: JsonBody(schema::<s::SettingsPatch>), answer: 200 Json(schema::<s::ModelSettings>),
        query: [], errors: [400, 404, 413],
    }
    /// The files of the firmware directory, served to phones at `/firmware/<name>`.
    ListFirmware = GET "/firmware" {
        name: "listFirmware", tag: "firmware", summary: "List firmware files",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<crate::firmware::FirmwareFile>),
        query: [], errors: [],
    }
    /// The raw file as the body (any Content-Type), streamed to disk up to
    /// `limits.max_firmware_bytes`; it replaces a file of that name once complete.
    UploadFirmware { file: String } = PUT "/firmware/{file}" {
        name: "uploadFirmware", tag: "firmware", summary: "Upload a firmware file",
        access: Site, audit: Change, body: Firmware, answer: 201 Json(schema::<crate::firmware::FirmwareFile>),
        query: [], errors: [400, 408, 413],
    }
    DeleteFirmware { file: String } = DELETE "/firmware/{file}" {
        name: "deleteFirmware", tag: "firmware", summary: "Remove a firmware file",
        access: Site, audit: Change, body: NoBody, answer: 200 Json(schema::<crate::firmware::FirmwareFile>),
        query: [], errors: [400, 404],
    }
    /// The server's version, what needs an operator's attention (a supplied certificate that
    /// expires within 30 days), and the certificates both listeners present.
    ShowStatus = GET "/status" {
        name: "getStatus", tag: "meta", summary: "Server status and certificates",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::StatusView>),
        query: [], errors: [],
    }
    ListTemplates = GET "/templates" {
        name: "listTemplates", tag: "templates", summary: "List the templates in use",
        access: Read, audit: None, body: NoBody, answer: 200 List(schema::<s::TemplateView>),
        query: [], errors: [],
    }
    /// The previous set stays in use when the new one does not load (400).
    ReloadTemplates = POST "/templates/reload" {
        name: "reloadTemplates", tag: "templates", summary: "Reload the templates",
        access: Site, audit: Change, body: NoBody, answer: 200 Json(schema::<s::TemplatesReloaded>),
        query: [], errors: [400],
    }
    /// `users`, `devices`, `contacts` (the phonebook's) or `keys` (one row a key of every
    /// layer: layer, owner, module, position, type, value, label, line); with `secrets=true`
    /// the SIP passwords (users) are included.
    Export { subject: String } = GET "/export/{subject}" {
        name: "exportCsv", tag: "import-export", summary: "Export users, devices, contacts or keys as CSV",
        access: Read, audit: SecretReadWithSecrets, body: NoBody, answer: 200 CsvAnswer,
        query: [flag("secrets", "Include the secrets (an audited secret read).")],
        errors: [400, 404],
    }
    /// `users`, `devices`, `contacts` (created or updated by id) or `keys` (replaces every
    /// layer the file names, each checked as PUT on the layer checks it; a file cannot clear a
    /// layer: PUT [] on it does). Checks the file's shape at once (400), then checks and
    /// applies its rows in the background: all rows or none.
    Import { subject: String } = POST "/import/{subject}" {
        name: "importCsv", tag: "import-export", summary: "Import users, devices, contacts or keys from CSV",
        access: Change, audit: Change, body: Csv, answer: 202 Json(schema::<s::ImportJob>),
        query: [flag("dry_run", "Check every row and change nothing.")],
        errors: [400, 404, 413],
    }
    /// Newest first, in pages.
    ListImports = GET "/imports" {
        name: "listImports", tag: "import-export", summary: "List recent imports",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::ImportJob>),
        query: [], errors: [400],
    }
    ShowImport { id: String } = GET "/imports/{id}" {
        name: "getImport", tag: "import-export", summary: "Show an import",
        access: Read, audit: None, body: NoBody, answer: 200 Json(schema::<s::ImportJob>),
        query: [], errors: [404],
    }
    /// Queues a test mail to the address, to check the SMTP settings; 409 when mail is not
    /// configured. Follow it in `GET /mail`.
    SendTestMail = POST "/mail/test" {
        name: "sendTestMail", tag: "mail", summary: "Send a test mail",
        access: Site, audit: Change, body: JsonBody(schema::<s::TestMail>), answer: 202 Json(schema::<s::MailView>),
        query: [], errors: [400, 409],
    }
    /// Newest first, in pages: each mail's state, attempts and the server's last answer.
    ListMail = GET "/mail" {
        name: "listMail", tag: "mail", summary: "List the mail outbox",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::MailView>),
        query: [text("user", "Only mails about this user (extension).")],
        errors: [400, 409],
    }
    /// In pages by name.
    ListTokens = GET "/tokens" {
        name: "listTokens", tag: "tokens", summary: "List admin tokens",
        access: Security, audit: None, body: NoBody, answer: 200 Page(schema::<s::TokenView>),
        query: [], errors: [400],
    }
    /// The answer is the only place the token is ever shown.
    CreateToken = POST "/tokens" {
        name: "createToken", tag: "tokens", summary: "Create an admin token",
        access: Security, audit: Change, body: JsonBody(schema::<s::NewToken>), answer: 201 Json(schema::<s::CreatedToken>),
        query: [], errors: [400, 409, 413],
    }
    /// By id or name. The last token cannot go; the one the request uses only with `force`.
    RevokeToken { token: String } = DELETE "/tokens/{token}" {
        name: "revokeToken", tag: "tokens", summary: "Revoke an admin token",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::TokenView>),
        query: [flag("force", "Revoke the token this request uses.")],
        errors: [400, 404, 409],
    }
    /// Console accounts in pages by name.
    ListAccounts = GET "/accounts" {
        name: "listAccounts", tag: "accounts", summary: "List console accounts",
        access: Security, audit: None, body: NoBody, answer: 200 Page(schema::<s::AccountView>),
        query: [], errors: [400],
    }
    /// Its password is generated, in the answer only, and must be changed at the first login.
    CreateAccount = POST "/accounts" {
        name: "createAccount", tag: "accounts", summary: "Create a console account",
        access: Security, audit: Change, body: JsonBody(schema::<s::NewAccount>), answer: 201 Json(schema::<s::AccountWithPassword>),
        query: [], errors: [400, 409, 413],
    }
    ShowAccount { username: Username } = GET "/accounts/{username}" {
        name: "getAccount", tag: "accounts", summary: "Show a console account",
        access: Security, audit: None, body: NoBody, answer: 200 Json(schema::<s::AccountView>),
        query: [], errors: [400, 404],
    }
    /// Role, leave to read secrets, disabled (which ends its sessions). Refused (409) when no
    /// enabled owner account would remain.
    PatchAccount { username: Username } = PATCH "/accounts/{username}" {
        name: "updateAccount", tag: "accounts", summary: "Change a console account",
        access: Security, audit: Change, body: JsonBody(schema::<s::AccountPatch>), answer: 200 Json(schema::<s::AccountView>),
        query: [], errors: [400, 404, 409, 413],
    }
    /// Ends its sessions. Refused (409) for the last enabled owner account.
    DeleteAccount { username: Username } = DELETE "/accounts/{username}" {
        name: "deleteAccount", tag: "accounts", summary: "Delete a console account",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::DeletedAccount>),
        query: [], errors: [400, 404, 409],
    }
    /// A generated password, in the answer only, to be changed at the next login; the
    /// account's sessions end.
    ResetAccountPassword { username: Username } = POST "/accounts/{username}/reset-password" {
        name: "resetAccountPassword", tag: "accounts", summary: "Reset a console account's password",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::AccountWithPassword>),
        query: [], errors: [400, 404],
    }
    /// Newest first, in pages.
    ListAudit = GET "/audit" {
        name: "listAudit", tag: "security", summary: "Query the audit trail",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::AuditView>),
        query: [
            text("kind", "Only records of this kind."),
            text("subject", "Only records about this subject: a MAC (any notation), an extension, a name."),
            text("source", "Only records from this address."),
            text("actor", "Only records of this actor: a token's or console account's name, `phone` or `deskprov`."),
            time("since", "Only records from this time on (RFC 3339)."),
            time("until", "Only records before this time (RFC 3339)."),
        ],
        errors: [400],
    }
    /// Every record of the store (README, Backup and restore), read under the write lock:
    /// admin changes wait while it is read and are in it whole or not at all. Recorded as
    /// `backup_taken` with its counts. It holds every secret as stored.
    TakeBackup = GET "/backup" {
        name: "takeBackup", tag: "backup", summary: "Take a backup of the whole site",
        access: Security, audit: Change, body: NoBody, answer: 200 BackupFile,
        query: [], errors: [],
    }
    /// An account required to have the factor and without one can only set one up, from its
    /// next request on.
    RequireTotp { username: String } = PUT "/accounts/{username}/totp-required" {
        name: "setAccountTotpRequired", tag: "accounts", summary: "Require a console account's TOTP second factor, or stop requiring it",
        access: Security, audit: Change, body: JsonBody(schema::<s::TotpRequirement>), answer: 200 Json(schema::<s::AccountTotpView>),
        query: [], errors: [400, 404, 413],
    }
    /// For a lost authenticator: the account logs in with its password alone (and sets up a
    /// new factor where one is required). 409 when it has none.
    ResetTotp { username: String } = DELETE "/accounts/{username}/totp" {
        name: "resetAccountTotp", tag: "accounts", summary: "Remove a console account's TOTP second factor",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::AccountTotpView>),
        query: [], errors: [404, 409],
    }
    /// In pages by source.
    ListBans = GET "/bans" {
        name: "listBans", tag: "security", summary: "List banned and counting sources",
        access: Read, audit: None, body: NoBody, answer: 200 Page(schema::<s::BanView>),
        query: [], errors: [400],
    }
    LiftBan { source: String } = DELETE "/bans/{source}" {
        name: "liftBan", tag: "security", summary: "Lift a source's ban",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Lifted>),
        query: [], errors: [400, 404],
    }
    /// An IPv6 /64 written with its slash unencoded.
    LiftBan64 { prefix: String } = DELETE "/bans/{prefix}/64" {
        name: "liftBan64", tag: "security", summary: "Lift an IPv6 /64's ban",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Lifted>),
        query: [], errors: [400, 404],
    }
    /// Addresses that sent too many wrong admin tokens, in pages by source.
    ListTokenBlocks = GET "/token-blocks" {
        name: "listTokenBlocks", tag: "security", summary: "List addresses blocked for wrong admin tokens",
        access: Security, audit: None, body: NoBody, answer: 200 Page(schema::<s::TokenBlockView>),
        query: [], errors: [400],
    }
    LiftTokenBlock { source: String } = DELETE "/token-blocks/{source}" {
        name: "liftTokenBlock", tag: "security", summary: "Lift an address's block for wrong admin tokens",
        access: Security, audit: Change, body: NoBody, answer: 200 Json(schema::<s::Lifted>),
        query: [], errors: [400, 404],
    }
}
