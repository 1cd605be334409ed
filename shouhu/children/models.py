"""The registry: child, household, family members with the facts categories depend on,
delegated care, consent, legal basis, and assignments that open a child to a worker.

Identifying values (ID numbers, phones, exact addresses) are stored only encrypted
(`*_enc`), with keyed hashes (`*_hash`) for exact-match lookup. Plaintext is produced by the
access module, never by a model attribute.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouhu.places.models import code_range


class Sex(models.TextChoices):
    MALE = "M", _("Male")
    FEMALE = "F", _("Female")


class Relation(models.TextChoices):
    FATHER = "father", _("Father")
    MOTHER = "mother", _("Mother")
    PATERNAL_GRANDFATHER = "paternal_grandfather", _("Paternal grandfather")
    PATERNAL_GRANDMOTHER = "paternal_grandmother", _("Paternal grandmother")
    MATERNAL_GRANDFATHER = "maternal_grandfather", _("Maternal grandfather")
    MATERNAL_GRANDMOTHER = "maternal_grandmother", _("Maternal grandmother")
    OTHER_RELATIVE = "other_relative", _("Other relative")
    DELEGATED_CARER = "delegated_carer", _("Delegated carer")


# The relations that make a family member a parent (a child's parents away are whom online
# reunions connect).
PARENTS = (Relation.FATHER, Relation.MOTHER)


class Capacity(models.TextChoices):
    ABLE = "able", _("Able")
    DISABLED = "disabled", _("Severely disabled")
    SERIOUSLY_ILL = "seriously_ill", _("Seriously ill")
    IMPRISONED = "imprisoned", _("Imprisoned")
    REHAB = "rehab", _("In drug rehabilitation")
    MISSING = "missing", _("Missing / out of contact")
    DECEASED = "deceased", _("Deceased")


class AwayReason(models.TextChoices):
    WORK = "work", _("Work")
    STUDY = "study", _("Study")
    OTHER = "other", _("Other")


class Health(models.TextChoices):
    WELL = "well", _("Healthy")
    ILL = "ill", _("Ill")
    SERIOUSLY_ILL = "seriously_ill", _("Seriously ill")


class Schooling(models.TextChoices):
    PRESCHOOL_AGE = "preschool_age", _("Below school age")
    KINDERGARTEN = "kindergarten", _("Kindergarten")
    ENROLLED = "enrolled", _("At school")
    DROPPED_OUT = "dropped_out", _("Dropped out")
    NOT_ENROLLED = "not_enrolled", _("Not enrolled")


class Living(models.TextChoices):
    BOTH_PARENTS = "both_parents", _("With both parents")
    ONE_PARENT = "one_parent", _("With one parent")
    GRANDPARENTS = "grandparents", _("With grandparents")
    RELATIVES = "relatives", _("With other relatives")
    DELEGATED_CARER = "delegated_carer", _("With a delegated carer")
    ALONE = "alone", _("Alone")
    INSTITUTION = "institution", _("In an institution")


class GuardianshipType(models.TextChoices):
    """监护类型 of the 2016 registration form."""

    NONE = "none", _("No guardian")
    PARENT_UNABLE = "parent_unable", _("Parents unable to guard")
    DELEGATE_INSUFFICIENT = "delegate_insufficient", _("Delegated guardian insufficient")
    ORDINARY = "ordinary", _("Ordinary")
    GOOD = "good", _("Good")


class GuardianshipRating(models.TextChoices):
    GOOD = "good", _("Good (较好)")
    FAIR = "fair", _("Fair (一般)")
    POOR = "poor", _("Poor (差)")


class Aid(models.TextChoices):
    NONE = "none", _("None")
    DIBAO = "dibao", _("Minimum living allowance (低保)")
    TEKUN = "tekun", _("Extreme-poverty support (特困)")
    LOW_INCOME = "low_income", _("Low-income household")


class RiskColour(models.TextChoices):
    """A child's risk colour (computed by `screening.risk`; carried by follow-ups too)."""

    GREEN = "green", _("Green")
    YELLOW = "yellow", _("Yellow")
    ORANGE = "orange", _("Orange")
    RED = "red", _("Red")


# Households on the government's 低保 or 特困 (the aid rules read them as living aid).
ON_GOVERNMENT_AID = models.Q(aid__in=[Aid.DIBAO, Aid.TEKUN])


class Household(models.Model):
    village = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("village"),
        db_index=False,  # indexed by household_village_ref, whose first column it is
    )
    address_enc = models.TextField(_("address (encrypted)"), blank=True)
    # The household's number in the village's own records or an import file (户编号):
    # rows that share it share the household, and re-imports find it again.
    ref = models.CharField(_("household number"), max_length=64, blank=True)
    aid = models.CharField(_("assistance"), max_length=16, choices=Aid.choices, default=Aid.NONE)
    income_source = models.CharField(_("income source"), max_length=200, blank=True)
    # Raised by every edit of the household or its delegated care: an edit made on an older
    # version is refused (two people on the same family at once lose nothing).
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("household")
        verbose_name_plural = _("households")
        indexes = [
            models.Index(fields=["village", "ref"], name="household_village_ref"),
            # The double-aid rule's test "is the household on 低保/特困": a small index of
            # those households alone, read without the table.
            models.Index(
                fields=["id"], name="household_government_aid", condition=ON_GOVERNMENT_AID
            ),
        ]

    def __str__(self) -> str:
        return f"household {self.pk}"


class FamilyMember(models.Model):
    """A parent, grandparent, relative or delegated carer of the household's children."""

    household = models.ForeignKey(Household, on_delete=models.CASCADE, related_name="members")
    name = models.CharField(_("name"), max_length=100)
    relation = models.CharField(_("relation"), max_length=32, choices=Relation.choices)
    is_guardian = models.BooleanField(_("guardian"), default=False)
    capacity = models.CharField(
        _("guardianship capacity"), max_length=16, choices=Capacity.choices, default=Capacity.ABLE
    )
    away = models.BooleanField(_("away from the child"), default=False)
    away_place = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("where"),
        db_index=False,  # indexed in Meta, without a LIKE copy
    )
    away_since = models.DateField(_("away since"), null=True, blank=True)
    away_reason = models.CharField(
        _("reason away"), max_length=16, choices=AwayReason.choices, blank=True
    )
    workplace = models.CharField(_("workplace"), max_length=200, blank=True)
    phone_enc = models.TextField(_("phone (encrypted)"), blank=True)
    phone_hash = models.CharField(max_length=64, blank=True)

    class Meta:
        ordering = ["household", "id"]
        verbose_name = _("family member")
        verbose_name_plural = _("family members")
        indexes = [
            models.Index(fields=["phone_hash"], name="member_phone_hash"),
            models.Index(fields=["away_place"], name="member_away_place"),
        ]

    def __str__(self) -> str:
        return self.name


class DelegatedCare(models.Model):
    """委托照护 (未成年人保护法 Arts. 22–23) for the household's children."""

    household = models.OneToOneField(
        Household, on_delete=models.CASCADE, related_name="delegated_care"
    )
    carer = models.ForeignKey(
        FamilyMember, on_delete=models.PROTECT, related_name="+", verbose_name=_("carer")
    )
    # Art. 22 eligibility checklist: each True means the disqualifying fact was checked absent.
    no_abuse_record = models.BooleanField(_("no record of sexual abuse or violence"), default=False)
    no_drugs_alcohol_gambling = models.BooleanField(
        _("no drug use, alcoholism or gambling"), default=False
    )
    no_neglect_history = models.BooleanField(_("has not neglected a child's care"), default=False)
    capable_adult = models.BooleanField(_("capable adult living with the child"), default=False)
    notice_to_school_on = models.DateField(_("written notice to school"), null=True, blank=True)
    notice_to_village_on = models.DateField(_("written notice to village"), null=True, blank=True)
    confirmation_signed_on = models.DateField(
        _("confirmation (委托监护确认书) signed"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("delegated care")
        verbose_name_plural = _("delegated care")

    def __str__(self) -> str:
        return f"delegated care of household {self.household_id}"

    @property
    def eligible(self) -> bool:
        return all(
            [
                self.no_abuse_record,
                self.no_drugs_alcohol_gambling,
                self.no_neglect_history,
                self.capable_adult,
            ]
        )


# The children the aid rules expect to receive some aid: in difficulty, without anyone
# supporting them, or orphaned (`aid.selectors.ELIGIBLE`).
ELIGIBLE_FOR_AID = (
    models.Q(cat_difficulty_poverty=True)
    | models.Q(cat_difficulty_disability=True)
    | models.Q(cat_difficulty_guardianship=True)
    | models.Q(cat_de_facto_unsupported=True)
    | models.Q(cat_orphan=True)
)


class ChildQuerySet(models.QuerySet["Child"]):
    def in_place(self, prefix: str) -> ChildQuerySet:
        """Children living in the division whose significant code digits are `prefix`."""
        low, high = code_range(prefix)
        return self.filter(residence__gte=low, residence__lte=high)

    def in_category(self, code: str) -> ChildQuerySet:
        return self.filter(**{f"cat_{code}": True})

    def born_between(self, earliest, latest) -> ChildQuerySet:  # type: ignore[no-untyped-def]
        return self.filter(birth_date__range=(earliest, latest))


class Child(models.Model):
    household = models.ForeignKey(Household, on_delete=models.PROTECT, related_name="children")
    name = models.CharField(_("name"), max_length=100)
    name_pinyin = models.CharField(max_length=200, editable=False)
    name_initials = models.CharField(max_length=50, editable=False)
    sex = models.CharField(_("sex"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("date of birth"))
    id_number_enc = models.TextField(_("ID number (encrypted)"), blank=True)
    # Indexed in Meta: a field's own `db_index` on PostgreSQL also builds a
    # `varchar_pattern_ops` copy for LIKE, which hashes and codes never need (every index
    # costs every import; see docs/PERFORMANCE.md).
    id_number_hash = models.CharField(max_length=64, blank=True)
    id_tail_hash = models.CharField(max_length=64, blank=True)
    hukou = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("hukou place"),
        db_index=False,
    )
    # Indexed by child_residence_pinyin, whose first column it is.
    residence = models.ForeignKey(
        "places.Place",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("residence"),
        db_index=False,
    )
    residence_since = models.DateField(_("living here since"), null=True, blank=True)
    school = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="pupils",
        verbose_name=_("school"),
        db_index=False,  # indexed by child_school_pinyin, whose first column it is
    )
    grade = models.CharField(_("grade"), max_length=20, blank=True)
    boarding = models.BooleanField(_("boarding"), default=False)
    schooling = models.CharField(
        _("schooling"), max_length=16, choices=Schooling.choices, default=Schooling.ENROLLED
    )
    health = models.CharField(_("health"), max_length=16, choices=Health.choices, default="well")
    disability_type = models.CharField(_("disability type"), max_length=50, blank=True)
    disability_grade = models.CharField(_("disability grade"), max_length=10, blank=True)
    living_arrangement = models.CharField(
        _("living arrangement"), max_length=20, choices=Living.choices
    )
    guardianship_type = models.CharField(
        _("guardianship type"), max_length=24, choices=GuardianshipType.choices, blank=True
    )
    guardianship_rating = models.CharField(
        _("guardianship rating"), max_length=8, choices=GuardianshipRating.choices, blank=True
    )

    # Derived categories: written only through children.categories.
    cat_left_behind_mca = models.BooleanField(_("left-behind (MCA)"), default=False, editable=False)
    cat_left_behind_census = models.BooleanField(
        _("left-behind (census)"), default=False, editable=False
    )
    cat_migrant = models.BooleanField(_("migrant"), default=False, editable=False)
    cat_difficulty_poverty = models.BooleanField(
        _("in difficulty: poverty"), default=False, editable=False
    )
    cat_difficulty_disability = models.BooleanField(
        _("in difficulty: disability"), default=False, editable=False
    )
    cat_difficulty_guardianship = models.BooleanField(
        _("in difficulty: guardianship"), default=False, editable=False
    )
    cat_de_facto_unsupported = models.BooleanField(
        _("de facto unsupported"), default=False, editable=False
    )
    cat_orphan = models.BooleanField(_("orphan"), default=False, editable=False)
    categories_on = models.DateField(null=True, blank=True, editable=False)
    categories_valid_until = models.DateField(null=True, blank=True, editable=False)

    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    objects = ChildQuerySet.as_manager()

    class Meta:
        ordering = ["name", "id"]
        verbose_name = _("child")
        verbose_name_plural = _("children")
        indexes = [
            # Lists are in pinyin order (the order of Chinese rosters): these indexes give a
            # page of a village, a school or the whole registry without sorting.
            models.Index(fields=["residence", "name_pinyin", "id"], name="child_residence_pinyin"),
            models.Index(fields=["school", "name_pinyin", "id"], name="child_school_pinyin"),
            models.Index(fields=["name_pinyin", "id"], name="child_pinyin_id"),
            models.Index(
                fields=["name"], name="child_name_prefix", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["name_pinyin"], name="child_pinyin", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(
                fields=["name_initials"], name="child_initials", opclasses=["varchar_pattern_ops"]
            ),
            models.Index(fields=["birth_date"], name="child_birth_date"),
            models.Index(fields=["id_number_hash"], name="child_id_hash"),
            models.Index(fields=["id_tail_hash"], name="child_id_tail_hash"),
            models.Index(fields=["hukou"], name="child_hukou"),
            models.Index(fields=["categories_valid_until"], name="child_cat_valid_until"),
            # The coordination board's eligible children without aid: an area's eligible
            # children (about one in eight) with their household, read from the index alone.
            models.Index(
                fields=["residence", "id", "household"],
                name="child_eligible_area",
                condition=ELIGIBLE_FOR_AID,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class AssignmentKind(models.TextChoices):
    CASE_WORKER = "case_worker", _("Case worker")
    COUNSELOR = "counselor", _("Counsellor")
    VOLUNTEER = "volunteer", _("Matched volunteer")
    REFERRAL = "referral", _("Accepted referral")
    TRANSFER = "transfer", _("Accepted transfer")


class ChildAssignment(models.Model):
    """Opens a child to a worker (or a whole organisation) outside their jurisdiction.

    Referrals and transfers to another organisation need a consent or a legal basis recorded.
    """

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="assignments")
    organisation = models.ForeignKey(
        "accounts.Organisation",
        on_delete=models.CASCADE,
        related_name="child_assignments",
        verbose_name=_("organisation"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="child_assignments",
        verbose_name=_("worker"),
    )
    kind = models.CharField(_("kind"), max_length=16, choices=AssignmentKind.choices)
    active = models.BooleanField(_("active"), default=True)
    started_on = models.DateField(_("from"))
    ended_on = models.DateField(_("until"), null=True, blank=True)

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        indexes = [
            models.Index(fields=["user", "active"], name="assignment_user_active"),
            models.Index(fields=["organisation", "active"], name="assignment_org_active"),
        ]

    def __str__(self) -> str:
        return f"{self.kind}: child {self.child_id}"


class ConsentScope(models.TextChoices):
    REGISTRY = "registry", _("Registration and care")
    SCREENING = "screening", _("Mental-health screening")
    SHARING = "sharing", _("Sharing with other organisations")
    PHOTOS = "photos", _("Photos")


class Consent(models.Model):
    """A guardian's consent (PIPL Art. 31 for under-14s), versioned by the notice text."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="consents")
    given_by = models.ForeignKey(
        FamilyMember, on_delete=models.PROTECT, related_name="+", verbose_name=_("given by")
    )
    given_on = models.DateField(_("date"))
    version = models.CharField(_("notice version"), max_length=20)
    scopes = models.JSONField(_("scope"), default=list)
    withdrawn_on = models.DateField(_("withdrawn on"), null=True, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        ordering = ["-given_on", "-id"]
        verbose_name = _("consent")
        verbose_name_plural = _("consents")

    def __str__(self) -> str:
        return f"consent {self.version} for child {self.child_id}"

    def scope_labels(self) -> list[str]:
        return [str(ConsentScope(s).label) if s in ConsentScope.values else s for s in self.scopes]


class Purpose(models.TextChoices):
    REGISTRY = "registry", _("Registry and care")
    SCREENING = "screening", _("Screening")
    CASE_WORK = "case_work", _("Case work")
    SHARING = "sharing", _("Sharing with other organisations")
    REPORTING = "reporting", _("Statistical reporting")


class Basis(models.TextChoices):
    CONSENT = "consent", _("Guardian consent")
    STATUTORY_DUTY = "statutory_duty", _("Statutory duty (PIPL Art. 13(3))")
    VITAL_INTEREST = "vital_interest", _("Protection of life and health (PIPL Art. 13(4))")


class ProcessingBasis(models.Model):
    """The legal basis for one processing purpose of one child's data."""

    child = models.ForeignKey(Child, on_delete=models.CASCADE, related_name="processing_bases")
    purpose = models.CharField(_("purpose"), max_length=16, choices=Purpose.choices)
    basis = models.CharField(_("legal basis"), max_length=16, choices=Basis.choices)
    note = models.CharField(_("note"), max_length=300, blank=True)
    recorded_on = models.DateField(_("recorded on"))
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    class Meta:
        verbose_name = _("legal basis")
        verbose_name_plural = _("legal bases")
        constraints = [
            models.UniqueConstraint(fields=["child", "purpose"], name="basis_child_purpose")
        ]

    def __str__(self) -> str:
        return f"{self.purpose}: {self.basis}"
