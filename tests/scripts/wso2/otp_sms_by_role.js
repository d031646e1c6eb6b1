// Second factor by text message for users with a mobile number, by email for the others; the same limits
// for both (the reference's sms-otp-authenticator and email-otp-authenticator).
var limits = {maximumAllowedFailureAttempts: '3', maximumAllowedResendAttempts: '2', enableRetryFromAuthenticator: 'true'};

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.steps[1].subject;
            var mobile = user.localClaims['http://wso2.org/claims/mobile'];
            var factor = mobile ? 'sms-otp-authenticator' : 'email-otp-authenticator';
            var params = {};
            params[factor] = limits;
            executeStep(2, {authenticationOptions: [{authenticator: factor}], authenticatorParams: {local: params}}, {
                onFail: function (context) {
                    fail({errorCode: 'access_denied', errorMessage: 'The one-time code was not accepted.'});
                }
            });
        }
    });
};
