#define UTS_RELEASE "6.6.63-1-lts"
