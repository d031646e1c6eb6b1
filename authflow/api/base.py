"""The base of every API view: who may call (access.py), errors (errors.py), lists (lists.py)."""
from rest_framework.generics import GenericAPIView
from rest_framework.mixins import ListModelMixin

from .access import ApiTokenAuthentication, HasScope, StaffSessionAuthentication
from .lists import ExactFilter, Ordering, Page


class ApiView(GenericAPIView):
    authentication_classes = [ApiTokenAuthentication, StaffSessionAuthentication]
    permission_classes = [HasScope]
    pagination_class = Page
    filter_backends = [ExactFilter, Ordering]
    filter_fields: dict = {}
    read_scope = "none"
    write_scope = "none"


class ApiListView(ListModelMixin, ApiView):
    """A list: get_queryset() filtered, ordered and paged."""
