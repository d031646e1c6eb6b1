"""The directory as scripts see it: snapshots, role changes and claims."""
import pytest
from django.contrib.auth.models import Group

from authflow.directory import services
from authflow.directory.claims import ClaimError, read_claims, write_claim
from authflow.directory.models import Role, User

pytestmark = pytest.mark.django_db


@pytest.fixture
def alice():
    user = User.objects.create_user("alice", email="alice@example.com", first_name="Alice", password="x" * 12)
    user.roles.add(Role.objects.create(name="admin"))
    user.groups.add(Group.objects.create(name="staff"))
    write_claim(user, "http://wso2.org/claims/country", "NZ")
    return user


def test_snapshot_holds_roles_groups_and_claims(alice):
    assert services.user_snapshot("alice") == {
        "username": "alice", "uniqueId": str(alice.unique_id), "tenantDomain": "carbon.super", "userStoreDomain": "PRIMARY",
        "roles": ["admin"], "groups": ["staff"],
        "claims": {"http://wso2.org/claims/username": "alice", "http://wso2.org/claims/emailaddress": "alice@example.com",
                   "http://wso2.org/claims/givenname": "Alice", "http://wso2.org/claims/identity/failedLoginAttempts": "0",
                   "http://wso2.org/claims/identity/failedLoginAttemptsBeforeSuccess": "0",
                   "http://wso2.org/claims/identity/accountLocked": "false", "urn:authflow:claims:staff": "false",
                   "http://wso2.org/claims/country": "NZ"},
    }


def test_unknown_and_inactive_users_have_no_snapshot(alice):
    assert services.user_snapshot("nobody") is None
    alice.is_active = False
    alice.save()
    assert services.user_snapshot("alice") is None


def test_assign_roles_is_all_or_nothing(alice):
    Role.objects.create(name="manager")
    assert services.assign_roles("alice", ["manager", "ghost"]) is False
    assert set(alice.roles.values_list("name", flat=True)) == {"admin"}
    assert services.assign_roles("alice", ["manager"]) is True
    assert set(alice.roles.values_list("name", flat=True)) == {"admin", "manager"}
    assert services.assign_roles("nobody", ["manager"]) is False


def test_remove_roles(alice):
    assert services.remove_roles("alice", ["ghost"]) is False
    assert services.remove_roles("alice", ["admin"]) is True
    assert not alice.roles.exists()


def test_mapped_claims_change_user_attributes(alice):
    assert services.set_local_claim("alice", "http://wso2.org/claims/dob", "1990-01-31")
    assert services.set_local_claim("alice", "http://wso2.org/claims/mobile", "+64 21 000 000")
    alice.refresh_from_db()
    assert alice.date_of_birth.isoformat() == "1990-01-31" and alice.mobile == "+64 21 000 000"
    assert read_claims(alice)["http://wso2.org/claims/dob"] == "1990-01-31"


@pytest.mark.parametrize("uri, value", [
    ("http://wso2.org/claims/dob", "1990-13-45"),
    ("http://wso2.org/claims/identity/failedLoginAttempts", "-1"),
    ("http://wso2.org/claims/emailaddress", "not an email"),
    ("http://wso2.org/claims/username", "mallory"),
    ("not a uri", "x"),
])
def test_bad_claim_values_are_refused_and_nothing_changes(alice, uri, value):
    before = read_claims(alice)
    assert services.set_local_claim("alice", uri, value) is False
    with pytest.raises(ClaimError):
        write_claim(alice, uri, value)
    alice.refresh_from_db()
    assert read_claims(alice) == before


def test_other_claims_are_stored_and_cleared(alice):
    assert services.set_local_claim("alice", "http://example.com/claims/tier", "gold")
    assert services.user_snapshot("alice")["claims"]["http://example.com/claims/tier"] == "gold"
    assert services.set_local_claim("alice", "http://example.com/claims/tier", None)
    assert "http://example.com/claims/tier" not in services.user_snapshot("alice")["claims"]
