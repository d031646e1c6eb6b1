// Age-based access control.
// Users younger than the minimum age (or whose birth date is unknown) are refused, and the error
// page tells them why instead of a generic refusal.
var minimumAge = 18;
var birthDateClaim = 'http://wso2.org/claims/dob';

var ageOn = function (birthDate, today) {
    var age = today.getUTCFullYear() - birthDate.getUTCFullYear();
    var beforeBirthday = today.getUTCMonth() < birthDate.getUTCMonth() ||
        (today.getUTCMonth() === birthDate.getUTCMonth() && today.getUTCDate() < birthDate.getUTCDate());
    return beforeBirthday ? age - 1 : age;
};

var onLoginRequest = function (context) {
    executeStep(1, {
        onSuccess: function (context) {
            var user = context.currentKnownSubject;
            var dob = user.localClaims[birthDateClaim];
            if (!dob || ageOn(new Date(dob), new Date()) < minimumAge) {
                sendError('', {
                    status: 'Access restricted',
                    statusMsg: 'You must be at least ' + minimumAge + ' years old to use ' + context.serviceProviderName + '.'
                });
            }
        }
    });
};
