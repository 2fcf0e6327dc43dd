"""Enumerations, taken from the value lists in the SDDC Manager OpenAPI descriptions.

The spec types these fields as plain strings and lists the allowed values in
``example``/``description`` text ("One among: ..."); the simulator enforces
those lists.
"""

TASK_TYPES = ("UPDATE", "ROTATE", "REMEDIATE", "UPDATE_AUTO_ROTATE_POLICY")

# CredentialsTask.status / CredentialsSubTask.status
TASK_STATUSES = ("PENDING", "IN_PROGRESS", "SUCCESSFUL", "FAILED", "USER_CANCELLED", "INCONSISTENT")
RUNNING = ("PENDING", "IN_PROGRESS")
# Statuses that end a run: the spec's own, then [guess] words of the generic
# Task enum that a disagreeing server might put into the credentials view.
SPEC_END_STATUSES = ("SUCCESSFUL", "FAILED", "INCONSISTENT", "USER_CANCELLED")
GUESSED_END_STATUSES = ("SKIPPED", "CANCELLED", "TIMED_OUT", "COMPLETED_WITH_WARNING")
END_STATUSES = SPEC_END_STATUSES + GUESSED_END_STATUSES
# Ends that come without a default error when the scenario names none.
QUIET_END_STATUSES = ("SUCCESSFUL", "COMPLETED_WITH_WARNING")

RELEASES = ("4.5", "5.2", "9.0", "9.1")
DEFAULT_RELEASE = "9.0"
# PATCH/DELETE on a credentials task: 200 in the 4.x/5.x pages, 202 in 9.x.
WRITE_STATUS = {"4.5": 200, "5.2": 200, "9.0": 202, "9.1": 202}
# The 4.x/5.0 pages call the retry body optional; 9.x requires it.
RETRY_BODY_OPTIONAL = ("4.5", "5.2")
# Error.notifications[] exists from 9.1 on.
NOTIFICATION_RELEASES = ("9.1",)
NOTIFICATION_SEVERITIES = ("INFO", "ERROR", "WARNING")
# A plausible, made-up Broadcom knowledge-base link for derived notifications.
KB_LINK = "https://knowledge.broadcom.com/external/article/000000"

# Union of ResourceCredentials.resourceType (ESXI ... BACKUP), Resource.type
# (SDDC_MANAGER, VXRAIL_MANAGER) and the Aria endpoint types the spec lists:
# what release 9.0 (the default) accepts in a retry.
RESOURCE_TYPES = (
    "ESXI", "VCENTER", "PSC", "NSXT_MANAGER", "NSXT_EDGE", "NSX_ALB", "BACKUP",
    "SDDC_MANAGER", "VXRAIL_MANAGER",
    "VRSLCM", "WSA", "VRLI", "VROPS", "VRA",
)
# 9.1 adds HCX_MANAGER and VSP; the 4.x/5.x pages also list the NSX-V era types.
RESOURCE_TYPES_BY_RELEASE = {
    "4.5": RESOURCE_TYPES + ("NSX_MANAGER", "NSX_CONTROLLER", "NSX_EDGE"),
    "5.2": RESOURCE_TYPES + ("NSX_MANAGER", "NSX_CONTROLLER", "NSX_EDGE"),
    "9.0": RESOURCE_TYPES,
    "9.1": RESOURCE_TYPES + ("HCX_MANAGER", "VSP"),
}
# A scenario may hold any type some release knows: a retry is then checked
# against the scenario's release.
ALL_RESOURCE_TYPES = RESOURCE_TYPES + ("NSX_MANAGER", "NSX_CONTROLLER", "NSX_EDGE", "HCX_MANAGER", "VSP")
CREDENTIAL_TYPES = ("SSO", "SSH", "API", "FTP", "AUDIT")
ACCOUNT_TYPES = ("USER", "SYSTEM", "SERVICE")

# SDDC Manager roles; only ADMIN may change passwords (VCF admin guide).
ROLES = ("ADMIN", "OPERATOR", "VIEWER")
ROLES_ALLOWED_TO_CHANGE = ("ADMIN",)

# The generic Task view (GET /v1/tasks/{id}, and the 202 answers) uses title case.
# The spec has no title-case word for INCONSISTENT; it reads as a failure there.
# SKIPPED and COMPLETED_WITH_WARNING exist only in upper case in the spec.
# TIMED_OUT: "Timed Out" from 9.1 on (GENERIC_TIMED_OUT); before, the generic enum has no such word.
# A status missing here (a scenario's status_word) is passed through unchanged.
GENERIC_STATUS = {
    "PENDING": "Pending",
    "IN_PROGRESS": "In Progress",
    "SUCCESSFUL": "Successful",
    "FAILED": "Failed",
    "USER_CANCELLED": "Cancelled",
    "INCONSISTENT": "Failed",
    "CANCELLED": "Cancelled",
    "SKIPPED": "SKIPPED",
    "COMPLETED_WITH_WARNING": "COMPLETED_WITH_WARNING",
    "TIMED_OUT": "Failed",
}
GENERIC_STATUS_UPPER = {
    "PENDING": "PENDING",
    "IN_PROGRESS": "IN_PROGRESS",
    "SUCCESSFUL": "SUCCESSFUL",
    "FAILED": "FAILED",
    "USER_CANCELLED": "CANCELLED",
    "INCONSISTENT": "FAILED",
    "CANCELLED": "CANCELLED",
    "SKIPPED": "SKIPPED",
    "COMPLETED_WITH_WARNING": "COMPLETED_WITH_WARNING",
    "TIMED_OUT": "FAILED",
}
# 9.1 adds QUEUED/Queued and TIMED_OUT/Timed Out to the generic enum.
GENERIC_QUEUED = {"title": "Queued", "upper": "QUEUED"}
GENERIC_TIMED_OUT = {"title": "Timed Out", "upper": "TIMED_OUT"}
GENERIC_CASES = ("title", "upper")
# Generic ``Task.resolutionStatus``: absent while running; UNRESOLVED for any
# end not listed here (failures, time-outs and unknown words).
RESOLVED_STATUSES = ("SUCCESSFUL", "COMPLETED_WITH_WARNING", "USER_CANCELLED", "CANCELLED", "SKIPPED")
# SubTask.status in the generic view is upper case, from a smaller list
# (PENDING, IN_PROGRESS, SUCCESSFUL, FAILED, SKIPPED, NOT_APPLICABLE); unknown
# words are passed through.
GENERIC_SUBTASK_STATUS = {
    "PENDING": "PENDING",
    "IN_PROGRESS": "IN_PROGRESS",
    "SUCCESSFUL": "SUCCESSFUL",
    "FAILED": "FAILED",
    "USER_CANCELLED": "SKIPPED",
    "INCONSISTENT": "FAILED",
    "CANCELLED": "SKIPPED",
    "SKIPPED": "SKIPPED",
    "COMPLETED_WITH_WARNING": "SUCCESSFUL",
    "TIMED_OUT": "FAILED",
}

TASK_NAMES = {
    "UPDATE": "Password update",
    "ROTATE": "Password rotation",
    "REMEDIATE": "Password remediation",
    "UPDATE_AUTO_ROTATE_POLICY": "Update password auto-rotate policy",
}

# Account used for generated resources: (username, credentialType, accountType).
DEFAULT_ACCOUNT = {
    "ESXI": ("root", "SSH", "USER"),
    "VCENTER": ("root", "SSH", "USER"),
    "PSC": ("administrator@vsphere.local", "SSO", "SYSTEM"),
    "NSXT_MANAGER": ("admin", "API", "SYSTEM"),
    "NSXT_EDGE": ("admin", "API", "SYSTEM"),
    "NSX_ALB": ("admin", "API", "SYSTEM"),
    "BACKUP": ("backup", "FTP", "SYSTEM"),
    "SDDC_MANAGER": ("vcf", "SSH", "USER"),
    "VXRAIL_MANAGER": ("root", "SSH", "USER"),
    "VRSLCM": ("vcfadmin@local", "API", "SYSTEM"),
    "WSA": ("admin", "API", "SYSTEM"),
    "VRLI": ("admin", "API", "SYSTEM"),
    "VROPS": ("admin", "API", "SYSTEM"),
    "VRA": ("configadmin", "API", "SYSTEM"),
    "NSX_MANAGER": ("admin", "API", "SYSTEM"),
    "NSX_CONTROLLER": ("admin", "API", "SYSTEM"),
    "NSX_EDGE": ("admin", "API", "SYSTEM"),
    "HCX_MANAGER": ("admin", "API", "SYSTEM"),
    "VSP": ("root", "SSH", "USER"),
}
