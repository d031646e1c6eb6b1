"""Users and roles. A user is read and written as `apply` does (export.user_entry, schema.parse,
apply.apply_user): one set of rules. Passwords are set here, never returned; locks are read and lifted."""
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from authflow.configuration.apply import apply_user
from authflow.configuration.export import user_entry
from authflow.configuration.schema import ConfigError, parse
from authflow.directory import lockout
from authflow.directory.models import Role, User

from . import audit
from .access import actor
from .base import ApiListView, ApiView, tagged
from .concurrency import etag_of, require_match
from .errors import Conflict, Invalid
from .sequences import IF_MATCH, PRECONDITION

WRITABLE = ("email", "first_name", "last_name", "is_staff", "is_active", "roles", "groups", "claims")


class UserSerializer(serializers.Serializer):
    username = serializers.CharField(max_length=150)
    email = serializers.CharField(required=False, allow_blank=True, max_length=254)
    first_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    last_name = serializers.CharField(required=False, allow_blank=True, max_length=150)
    is_staff = serializers.BooleanField(required=False)
    is_active = serializers.BooleanField(required=False)
    roles = serializers.ListField(child=serializers.CharField(max_length=150), required=False, max_length=100)
    groups = serializers.ListField(child=serializers.CharField(max_length=150), required=False, max_length=100)
    claims = serializers.DictField(child=serializers.CharField(max_length=1024, allow_blank=True), required=False,
                                   help_text="claim URI -> value; replaces the user's other claims")
    password = serializers.CharField(required=False, write_only=True, trim_whitespace=False, max_length=1024,
                                     help_text="set only; never returned")
    locked = serializers.BooleanField(read_only=True)
    locked_until = serializers.DateTimeField(read_only=True, allow_null=True)
    failed_login_attempts = serializers.IntegerField(read_only=True)
    has_password = serializers.BooleanField(read_only=True)

    def to_representation(self, user):
        entry = user_entry(user)
        return {"username": user.username, "email": user.email, "first_name": user.first_name,
                "last_name": user.last_name, "is_staff": user.is_staff, "is_active": user.is_active,
                "roles": entry["roles"], "groups": entry["groups"], "claims": entry.get("claims", {}),
                "locked": user.account_locked, "locked_until": user.locked_until and user.locked_until.isoformat(),
                "failed_login_attempts": user.failed_login_attempts, "has_password": user.has_usable_password()}


class UserUpdateSerializer(UserSerializer):
    username = None


class RoleSerializer(serializers.ModelSerializer):
    name = serializers.CharField(max_length=150)
    description = serializers.CharField(max_length=2000, required=False, allow_blank=True)

    class Meta:
        model = Role
        fields = ["name", "description"]


def _users():
    return User.objects.prefetch_related("roles", "groups", "claim_values")


def _save(request, user, changes: dict) -> User:
    """Check the user as `apply` would, then write it through apply's own code."""
    entry = user_entry(user) if user is not None else {"username": changes["username"]}
    for key in WRITABLE:
        if key in changes:
            entry[key] = changes[key]
    unknown = sorted(set(entry.get("roles", [])) - set(Role.objects.filter(name__in=entry.get("roles", []))
                                                      .values_list("name", flat=True)))
    if unknown:
        raise Invalid(f"no such role: {', '.join(unknown)}", field="roles")
    if "password" in changes:
        try:
            validate_password(changes["password"], user)
        except ValidationError as exc:
            raise Invalid(" ".join(exc.messages), field="password") from None
        entry["password"] = changes["password"]
    try:
        checked = parse({"users": [entry]}).users[0]
    except ConfigError as exc:
        message = str(exc).split(": ", 1)[1] if ": " in str(exc) else str(exc)
        raise Invalid(message) from None
    apply_user(checked)
    return _users().get(username=checked.username)


class UserList(ApiListView):
    read_scope, write_scope = "users:read", "users:write"
    serializer_class = UserSerializer
    filter_fields = {"username": "username", "email": "email", "is_active": "is_active", "is_staff": "is_staff",
                     "role": "roles__name", "group": "groups__name"}
    ordering_fields = ["username", "date_joined", "last_login"]

    def get_queryset(self):
        return _users().order_by("username").distinct()

    @extend_schema(summary="List users")
    def get(self, request):
        return self.list(request)

    @extend_schema(summary="Create a user", responses={201: UserSerializer, 409: OpenApiResponse(description="taken")})
    def post(self, request):
        serializer = UserSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        changes = serializer.validated_data
        try:
            with transaction.atomic():
                if User.objects.filter(username=changes["username"].strip()).exists():
                    raise Conflict("a user has this username", field="username")
                user = _save(request, None, changes)
                audit.record(request, "create", "user", user.username, _audited(changes))
        except IntegrityError:
            raise Conflict("a user has this username", field="username") from None
        return tagged(UserSerializer(user).data, status.HTTP_201_CREATED)


def _audited(changes: dict) -> dict:
    return {"fields": sorted(key for key in changes if key != "username")}


class UserDetail(ApiView):
    read_scope, write_scope = "users:read", "users:write"
    serializer_class = UserSerializer

    @extend_schema(summary="Read a user (never the password)")
    def get(self, request, username):
        return tagged(UserSerializer(get_object_or_404(_users(), username=username)).data)

    @extend_schema(summary="Change a user: fields given replace the stored ones", request=UserUpdateSerializer,
                   parameters=[IF_MATCH], responses={200: UserSerializer, **PRECONDITION})
    @transaction.atomic
    def patch(self, request, username):
        serializer = UserUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        user = get_object_or_404(_users().select_for_update(of=("self",)), username=username)
        require_match(request, etag_of(UserSerializer(user).data))
        user = _save(request, user, serializer.validated_data)
        audit.record(request, "update", "user", user.username, _audited(serializer.validated_data))
        return tagged(UserSerializer(user).data)

    @extend_schema(summary="Delete a user", parameters=[IF_MATCH], responses={204: None, **PRECONDITION})
    @transaction.atomic
    def delete(self, request, username):
        user = get_object_or_404(_users().select_for_update(of=("self",)), username=username)
        require_match(request, etag_of(UserSerializer(user).data))
        user.delete()
        audit.record(request, "delete", "user", username)
        return Response(status=status.HTTP_204_NO_CONTENT)


class UserUnlock(ApiView):
    read_scope, write_scope = "users:read", "users:write"
    serializer_class = UserSerializer

    @extend_schema(summary="Unlock a user's account (its failed sign-ins back to 0)", request=None,
                   responses={200: UserSerializer})
    @transaction.atomic
    def post(self, request, username):
        user = get_object_or_404(_users().select_for_update(of=("self",)), username=username)
        was_locked = user.account_locked
        lockout.unlock(user, by=actor(request))
        audit.record(request, "unlock", "user", username, {"was_locked": was_locked})
        return tagged(UserSerializer(_users().get(pk=user.pk)).data)


class RoleList(ApiListView):
    read_scope, write_scope = "users:read", "users:write"
    serializer_class = RoleSerializer
    ordering_fields = ["name"]
    queryset = Role.objects.all()

    @extend_schema(summary="List roles")
    def get(self, request):
        return self.list(request)

    @extend_schema(summary="Create a role", responses={201: RoleSerializer, 409: OpenApiResponse(description="taken")})
    def post(self, request):
        serializer = RoleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        name = serializer.validated_data["name"].strip()
        if not name:
            raise Invalid("is required (text)", field="name")
        try:
            with transaction.atomic():
                role = Role.objects.create(name=name, description=serializer.validated_data.get("description", ""))
                audit.record(request, "create", "role", name)
        except IntegrityError:
            raise Conflict("a role has this name", field="name") from None
        return Response(RoleSerializer(role).data, status=status.HTTP_201_CREATED)


class RoleDetail(ApiView):
    read_scope, write_scope = "users:read", "users:write"
    serializer_class = RoleSerializer

    @extend_schema(summary="Read a role")
    def get(self, request, name):
        return tagged(RoleSerializer(get_object_or_404(Role, name=name)).data)

    @extend_schema(summary="Delete a role (its users lose it)", parameters=[IF_MATCH],
                   responses={204: None, **PRECONDITION})
    @transaction.atomic
    def delete(self, request, name):
        role = get_object_or_404(Role.objects.select_for_update(), name=name)
        require_match(request, etag_of(RoleSerializer(role).data))
        role.delete()
        audit.record(request, "delete", "role", name)
        return Response(status=status.HTTP_204_NO_CONTENT)
