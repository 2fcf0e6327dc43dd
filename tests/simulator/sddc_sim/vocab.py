"""Enumerations, taken from the value lists in the SDDC Manager OpenAPI descriptions.

The spec types these fields as plain strings and lists the allowed values in
``example``/``description`` text ("One among: ..."); the simulator enforces
those lists.
"""

TASK_TYPES = ("UPDATE", "ROTATE", "REMEDIATE", "UPDATE_AUTO_ROTATE_POLICY")

# CredentialsTask.status / CredentialsSubTask.status
TASK_STATUSES = ("PENDING", "IN_PROGRESS", "SUCCESSFUL", "FAILED", "USER_CANCELLED", "INCONSISTENT")
RUNNING = ("PENDING", "IN_PROGRESS")

# Union of ResourceCredentials.resourceType (ESXI ... BACKUP), Resource.type
# (SDDC_MANAGER, VXRAIL_MANAGER) and the Aria endpoint types the spec lists.
RESOURCE_TYPES = (
    "ESXI", "VCENTER", "PSC", "NSXT_MANAGER", "NSXT_EDGE", "NSX_ALB", "BACKUP",
    "SDDC_MANAGER", "VXRAIL_MANAGER",
    "VRSLCM", "WSA", "VRLI", "VROPS", "VRA",
)
CREDENTIAL_TYPES = ("SSO", "SSH", "API", "FTP", "AUDIT")
ACCOUNT_TYPES = ("USER", "SYSTEM", "SERVICE")

# SDDC Manager roles; only ADMIN may change passwords (VCF admin guide).
ROLES = ("ADMIN", "OPERATOR", "VIEWER")
ROLES_ALLOWED_TO_CHANGE = ("ADMIN",)

# The generic Task view (GET /v1/tasks/{id}, and the 202 answers) uses title case.
# The spec has no title-case word for INCONSISTENT; it reads as a failure there.
GENERIC_STATUS = {
    "PENDING": "Pending",
    "IN_PROGRESS": "In Progress",
    "SUCCESSFUL": "Successful",
    "FAILED": "Failed",
    "USER_CANCELLED": "Cancelled",
    "INCONSISTENT": "Failed",
}
# SubTask.status in the generic view is upper case, from a smaller list.
GENERIC_SUBTASK_STATUS = {
    "PENDING": "PENDING",
    "IN_PROGRESS": "IN_PROGRESS",
    "SUCCESSFUL": "SUCCESSFUL",
    "FAILED": "FAILED",
    "USER_CANCELLED": "SKIPPED",
    "INCONSISTENT": "FAILED",
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
}
