// SPDX-License-Identifier: GPL-2.0
/* stand-in: plans never compile it */
