"""Users, roles, groups and claims: the directory scripts read and change.

Other apps use `authflow.directory.services`; roles are distinct from groups,
as in the script API (`hasRole` vs `isMemberOfAnyOfGroups`).
"""
