from .orders import DiscountApproval, OrderStatus, SalesOrder, SalesOrderLine  # noqa: F401
from .shipments import SalesReturn, SalesReturnLine, Shipment, ShipmentLine, ShipmentStatus  # noqa: F401
