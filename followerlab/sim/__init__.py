"""Independent simulations of each model, used by the tests to check the closed forms.

Every function takes ``seed`` (an int or a numpy Generator): same seed, same result.
"""
