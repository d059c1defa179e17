#define UTS_RELEASE "6.12.1-zen1-1-zen"
