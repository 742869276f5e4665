"""Trade: orders and their lines, transitions, payments, stock locations and moves."""

from weishang.trade.models.orders import (  # noqa: F401
    STUCK_KINDS,
    VOLUME_KINDS,
    Customer,
    Order,
    OrderKind,
    OrderLine,
    OrderStatus,
    OrderTransition,
)
from weishang.trade.models.payments import (  # noqa: F401
    Payment,
    PaymentMethod,
    PaymentStatus,
)
from weishang.trade.models.receiving import (  # noqa: F401
    NoticeKind,
    OrderNotice,
    ReceivingAccount,
    ReceivingKind,
)
from weishang.trade.models.stock import Location, LocationKind, StockLevel, StockMove, StockReason  # noqa: F401
from weishang.trade.models.volume import TeamVolume  # noqa: F401
