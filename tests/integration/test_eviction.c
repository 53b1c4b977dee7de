#include "config.h"
#include <criterion/criterion.h>
Test(todo, todo) {}
