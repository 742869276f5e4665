"""The withdrawal form of the rewards page.

It checks the shape of the input only (the amount is a number of yuan, an account is given);
the minimum, the fee, the available balance and the bank card rules are the service's
(``rewards.services.reward_withdraw``), whose error the view puts on the field it is about.
"""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from weishang.ledger.models import WithdrawalMethod
from weishang.web.trade_forms import TokenField, new_token


class WithdrawForm(forms.Form):
    token = TokenField()
    amount = forms.DecimalField(
        label=_("Amount (yuan)"),
        max_digits=12,
        decimal_places=2,
        widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01", "min": "0.01"}),
    )
    method = forms.ChoiceField(label=_("Pay to"), choices=WithdrawalMethod.choices)
    account_name = forms.CharField(label=_("Account holder's name"), max_length=50)
    account_no = forms.CharField(label=_("Account (WeChat ID, Alipay account or card number)"), max_length=40)
    bank_name = forms.CharField(label=_("Bank (for a bank card)"), max_length=50, required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial.setdefault("token", new_token())
