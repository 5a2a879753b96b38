"""Every book model as a fixture."""
import pytest
from plot_helpers import BOOK


@pytest.fixture(params=sorted(BOOK))
def book_model(request):
    return BOOK[request.param]()
